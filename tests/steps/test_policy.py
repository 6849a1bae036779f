"""The policy's choices on hand-made turns, with a small real policy: the tiny bot's templates and graph."""

from __future__ import annotations

import pytest
from tinybot import TINY_GRAPH, TINY_TEMPLATES

from agent.bot.schemas import GraphFile, TemplatesFile
from agent.config import BotConfig, GraphConfig
from agent.steps.graph import KnowledgeGraph
from agent.steps.policy import Policy
from agent.steps.templates import Rendered, TemplateEngine
from agent.types import FaqHit, IntentPrediction, IntentScore, SessionState, Turn

HANDOFF_TEMPLATE = {"text": "A person will reply here soon; you can also call us on {bank.phone}."}


def _turn(intent: str, confidence: float, faq_intents: list[str | None], text: str = "a message") -> Turn:
    turn = Turn(session_id="p", text=text, state=SessionState())
    turn.intent = IntentPrediction(name=intent, confidence=confidence, out_of_scope=False)
    turn.faq_hits = [
        FaqHit(id=f"faq-{i}", question="q", answer=f"answer {i}", score=0.6 - i / 10, intent=name)
        for i, name in enumerate(faq_intents)
    ]
    return turn


def _policy(**dialog: object) -> Policy:
    config = BotConfig.model_validate({"name": "Policy test", "intents": {"confident": 0.45}, "dialog": dialog})
    templates = TemplatesFile.model_validate(
        {"templates": {**TINY_TEMPLATES["templates"], "human_handoff": HANDOFF_TEMPLATE}}
    )
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    return Policy(config, TemplateEngine(templates, graph))


@pytest.fixture()
def policy() -> Policy:
    return _policy()


def test_unsure_intent_answers_when_the_best_faq_hit_is_its_own(policy: Policy) -> None:
    low = policy.config.intents.confident - 0.1
    agreed = policy.decide(_turn("lost_card", low, ["lost_card", None]))
    assert agreed.source == "template" and "best FAQ hit agrees" in agreed.reason
    # Only the best hit counts: a lower one naming the intent is not agreement.
    assert policy.decide(_turn("lost_card", low, [None, "lost_card"])).source == "fallback"
    assert policy.decide(_turn("lost_card", low, ["greeting"])).source == "fallback"


def test_agreement_can_be_switched_off() -> None:
    strict = _policy(faq_agreement=False)
    low = strict.config.intents.confident - 0.1
    assert strict.decide(_turn("lost_card", low, ["lost_card"])).source == "fallback"


def test_agreement_never_overrides_out_of_scope(policy: Policy) -> None:
    turn = _turn("oos", 0.9, ["lost_card"])
    turn.intent = IntentPrediction(name="oos", confidence=0.9, out_of_scope=True)
    assert policy.decide(turn).source == "fallback"


def test_asking_for_a_person_gets_the_handoff_template(policy: Policy) -> None:
    decision = policy.decide(_turn("human_handoff", 0.99, []))
    assert decision.source == "handoff" and decision.handoff
    assert decision.text == "A person will reply here soon; you can also call us on +1 555 0100."
    # A handoff the bot decides on its own (anger) keeps the persona's short notice.
    angry = _turn("greeting", 0.99, [])
    angry.sentiment = -0.95
    assert policy.decide(angry).text == policy.config.persona.handoff


def test_repeated_fallbacks_hand_off_and_an_answer_resets_the_count(policy: Policy) -> None:
    state = SessionState()
    for expected in ["fallback", "fallback"]:
        turn = _turn("oos", 0.9, [])
        turn.intent, turn.state = IntentPrediction(name="oos", confidence=0.9, out_of_scope=True), state
        assert policy.decide(turn).source == expected
    answered = _turn("greeting", 0.99, [])
    answered.state = state
    assert policy.decide(answered).source == "template" and state.fallback_count == 0
    for expected in ["fallback", "fallback", "handoff"]:
        turn = _turn("oos", 0.9, [])
        turn.intent, turn.state = IntentPrediction(name="oos", confidence=0.9, out_of_scope=True), state
        assert policy.decide(turn).source == expected
    assert state.handed_off and state.fallback_count == 3


def _tied(first: float, second: float, faq_intents: list[str | None]) -> Turn:
    turn = _turn("greeting", first, faq_intents)
    assert turn.intent is not None
    turn.intent.top = [IntentScore(name="greeting", confidence=first), IntentScore(name="lost_card", confidence=second)]
    return turn


def test_the_best_faq_hit_breaks_a_near_tie_between_two_intents(policy: Policy) -> None:
    turn = _tied(0.49, 0.48, ["lost_card"])
    decision = policy.decide(turn)
    assert decision.source == "template" and "near-tie with greeting" in decision.reason
    assert turn.intent is not None and turn.intent.name == "lost_card"  # the trace shows the intent that answered
    assert policy.templates.render("lost_card", {}).text == decision.text
    # Not a near-tie, or the hit belongs to neither: the classifier's choice stands.
    assert policy.decide(wide := _tied(0.60, 0.30, ["lost_card"])).source == "template"
    assert wide.intent is not None and wide.intent.name == "greeting"
    policy.decide(other := _tied(0.49, 0.48, ["card_fee"]))
    assert other.intent is not None and other.intent.name == "greeting"


def test_the_tiebreak_can_be_switched_off() -> None:
    _policy(faq_tiebreak=0.0).decide(turn := _tied(0.49, 0.48, ["lost_card"]))
    assert turn.intent is not None and turn.intent.name == "greeting"


def _faq_turn(intent: str, confidence: float, faq_intent: str | None, score: float = 0.95) -> Turn:
    turn = _turn(intent, confidence, [])
    turn.faq_hits = [FaqHit(id="the-faq", question="q", answer="The FAQ answer.", score=score, intent=faq_intent)]
    return turn


def test_a_confident_intent_keeps_its_own_answer_over_another_intents_faq(policy: Policy) -> None:
    own = policy.templates.render("lost_card", {})
    assert isinstance(own, Rendered)
    kept = policy.decide(_faq_turn("lost_card", 0.9, "card_fee"))
    assert kept.source == "template" and kept.text == own.text
    assert "FAQ 'the-faq' (0.95) is card_fee's" in kept.reason
    # An FAQ entry of no intent, or of this one, answers.
    for faq_intent in (None, "lost_card"):
        decision = policy.decide(_faq_turn("lost_card", 0.9, faq_intent))
        assert decision.source == "faq" and decision.text == "The FAQ answer.", faq_intent
    # Another intent's FAQ still answers when the intent is unsure, or has no answer of its own.
    assert policy.decide(_faq_turn("lost_card", 0.2, "card_fee")).source == "faq"
    assert policy.decide(_faq_turn("refund", 0.9, "card_fee")).source == "faq"
    # Under the FAQ threshold the FAQ hit does not count at all.
    assert policy.decide(_faq_turn("lost_card", 0.9, None, score=0.5)).source == "template"


def test_a_custom_handoff_intent_hands_off() -> None:
    policy = _policy(handoff_intents=["lost_card", "complaint"])
    turn = _turn("lost_card", 0.9, [])
    decision = policy.decide(turn)
    assert decision.source == "handoff" and decision.handoff and turn.state.handed_off
    assert decision.reason == "customer asked for a person (lost_card)"
    rendered = policy.templates.render("lost_card", {})
    assert isinstance(rendered, Rendered) and decision.text == rendered.text  # in its template's words
    # One without a template of its own says the persona's notice.
    plain = policy.decide(_turn("complaint", 0.9, []))
    assert plain.handoff and plain.text == policy.config.persona.handoff
    # Unsure, it does not; and human_handoff, no longer listed, answers like any intent.
    assert policy.decide(_turn("lost_card", 0.2, [])).source == "fallback"
    other = policy.decide(_turn("human_handoff", 0.99, []))
    assert other.source == "template" and not other.handoff


def test_a_handoff_template_with_a_marker_it_cannot_fill_says_the_persona_notice() -> None:
    config = BotConfig.model_validate({"name": "Policy test", "intents": {"confident": 0.45}})
    templates = TemplatesFile.model_validate({"templates": {"human_handoff": {"text": "Call {{Support Phone}}."}}})
    graph = KnowledgeGraph.from_spec(GraphFile.model_validate(TINY_GRAPH), GraphConfig())
    decision = Policy(config, TemplateEngine(templates, graph)).decide(_turn("human_handoff", 0.99, []))
    assert decision.handoff and decision.text == config.persona.handoff and "{{" not in decision.text
