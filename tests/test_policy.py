"""The policy's choices on hand-made turns, with the demo bot's real templates and graph."""

from __future__ import annotations

from agent import Agent
from agent.policy import Policy
from agent.types import FaqHit, IntentPrediction, IntentScore, SessionState, Turn


def _turn(intent: str, confidence: float, faq_intents: list[str | None], text: str = "a message") -> Turn:
    turn = Turn(session_id="p", text=text, state=SessionState())
    turn.intent = IntentPrediction(name=intent, confidence=confidence, out_of_scope=False)
    turn.faq_hits = [
        FaqHit(id=f"faq-{i}", question="q", answer=f"answer {i}", score=0.6 - i / 10, intent=name)
        for i, name in enumerate(faq_intents)
    ]
    return turn


def _policy(agent: Agent) -> Policy:
    return next(step for step in agent.steps if isinstance(step, Policy))


def test_unsure_intent_answers_when_the_best_faq_hit_is_its_own(demo_agent: Agent) -> None:
    policy = _policy(demo_agent)
    low = policy.config.intents.confident - 0.1
    agreed = policy.decide(_turn("declined_card_payment", low, ["declined_card_payment", None]))
    assert agreed.source == "template" and "best FAQ hit agrees" in agreed.reason
    # Only the best hit counts: a lower one naming the intent is not agreement.
    assert policy.decide(_turn("declined_card_payment", low, [None, "declined_card_payment"])).source == "fallback"
    assert policy.decide(_turn("declined_card_payment", low, ["card_arrival"])).source == "fallback"


def test_agreement_can_be_switched_off(demo_agent: Agent) -> None:
    policy = _policy(demo_agent)
    config = policy.config.model_copy(
        update={"dialog": policy.config.dialog.model_copy(update={"faq_agreement": False})}
    )
    strict = Policy(config, policy.templates)
    low = policy.config.intents.confident - 0.1
    assert strict.decide(_turn("declined_card_payment", low, ["declined_card_payment"])).source == "fallback"


def test_agreement_never_overrides_out_of_scope(demo_agent: Agent) -> None:
    turn = _turn("oos", 0.9, ["declined_card_payment"])
    turn.intent = IntentPrediction(name="oos", confidence=0.9, out_of_scope=True)
    assert _policy(demo_agent).decide(turn).source == "fallback"


def test_asking_for_a_person_gets_the_handoff_template(demo_agent: Agent) -> None:
    policy = _policy(demo_agent)
    decision = policy.decide(_turn("human_handoff", 0.99, []))
    assert decision.source == "handoff" and decision.handoff
    phone = policy.templates.graph.entity("bank")["attributes"]["phone"]
    assert phone in decision.text and decision.text != policy.config.persona.handoff
    # A handoff the bot decides on its own (anger) keeps the persona's short notice.
    angry = _turn("card_arrival", 0.99, [])
    angry.sentiment = -0.95
    assert policy.decide(angry).text == policy.config.persona.handoff


def _tied(first: float, second: float, faq_intents: list[str | None]) -> Turn:
    turn = _turn("transfer_into_account", first, faq_intents)
    turn.intent.top = [
        IntentScore(name="transfer_into_account", confidence=first),
        IntentScore(name="top_up_limits", confidence=second),
    ]
    return turn


def test_the_best_faq_hit_breaks_a_near_tie_between_two_intents(demo_agent: Agent) -> None:
    policy = _policy(demo_agent)
    turn = _tied(0.49, 0.48, ["top_up_limits"])
    decision = policy.decide(turn)
    assert decision.source == "template" and "near-tie with transfer_into_account" in decision.reason
    assert turn.intent.name == "top_up_limits"  # the trace shows the intent that answered
    assert policy.templates.render("top_up_limits", {}).text == decision.text
    # Not a near-tie, or the hit belongs to neither: the classifier's choice stands.
    assert _policy(demo_agent).decide(wide := _tied(0.60, 0.30, ["top_up_limits"])).source == "template"
    assert wide.intent.name == "transfer_into_account"
    policy.decide(other := _tied(0.49, 0.48, ["card_arrival"]))
    assert other.intent.name == "transfer_into_account"


def test_the_tiebreak_can_be_switched_off(demo_agent: Agent) -> None:
    policy = _policy(demo_agent)
    config = policy.config.model_copy(update={"dialog": policy.config.dialog.model_copy(update={"faq_tiebreak": 0.0})})
    Policy(config, policy.templates).decide(turn := _tied(0.49, 0.48, ["top_up_limits"]))
    assert turn.intent.name == "transfer_into_account"
