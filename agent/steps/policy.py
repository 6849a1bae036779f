"""The policy: from an annotated turn, decide which source answers and what it says.

Rules, in order (the first that applies answers):

1. Handed over already   -> tell the customer a person will reply.
2. Pending question      -> the customer named the detail we asked for: answer the waiting intent.
3. Asked for a person    -> handoff (a confident intent of `dialog.handoff_intents`), in its
                            template's words when it has one (phone, hours).
4. Strong negative sentiment -> handoff.
5. Confident intent whose template takes an entity the customer named -> template (most specific).
   An intent under the `confident` bar still counts as confident when the best FAQ hit belongs to
   it: two independent readings of the message (classifier, retrieval) agree. When the top two
   intents are nearly tied (`dialog.faq_tiebreak`), the one the best FAQ hit belongs to is taken.
6. Confident FAQ hit     -> the FAQ answer (also for topics the classifier never saw: FAQs added live),
                            unless it is another intent's FAQ and a confident intent has its own answer.
   Help-centre page      -> when no FAQ entry or confident intent answers, the closest passage of
                            knowledge/docs/ above `docs.answer_threshold`, quoted (agent/steps/docs.py).
7. Out of scope          -> fallback (what the bot can help with); repeated fallbacks -> handoff.
8. Confident intent      -> template with graph facts, or a question for a missing required slot.
9. Anything else         -> ask to rephrase (counts as a fallback).

A reply holding a `{{marker}}` the conversation cannot fill (agent/steps/placeholders.py)
is never sent: the policy falls back and the reason names the marker.

Each answer is a `Decision` (text, source, reason, facts) written on the turn;
the decoder step that runs next may rewrite a FAQ or template answer from the
same grounding, and keeps its text only when it is confident and grounded.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.bot.schemas import OOS
from agent.config import BotConfig
from agent.steps.docs import DocsIndex
from agent.steps.templates import Ask, Rendered, TemplateEngine, Unsendable
from agent.types import Decision, IntentPrediction, PatternMatch, Pending, SessionState, Turn


class Policy:
    """Chooses the answer source for a turn and updates the session state."""

    name = "policy"

    def __init__(self, config: BotConfig, templates: TemplateEngine, docs: DocsIndex | None = None) -> None:
        self.config = config
        self.templates = templates
        self.docs = docs

    def __call__(self, turns: Sequence[Turn]) -> None:
        for turn in turns:
            turn.decision = self.decide(turn)

    def decide(self, turn: Turn) -> Decision:
        """Pick the answer for `turn`; records it in `turn.state` (slots, pending question, fallback count)."""
        decision = self._choose(turn, turn.state)
        turn.state.record(decision, turn.graph.entities, turn.intent, turn.patterns)
        return decision

    def _choose(self, turn: Turn, state: SessionState) -> Decision:
        persona = self.config.persona
        intent = turn.intent
        assert intent is not None, "the intent step runs before the policy"
        if state.handed_off:
            return Decision(persona.handoff, "handoff", "conversation already handed over to a person", handoff=True)

        pending = state.take_pending()
        if pending is not None:
            named = pending.answer(turn.graph.entities, turn.patterns)
            if named is not None:
                slots = self._slots(pending.intent, turn)
                given = named.value if isinstance(named, PatternMatch) else named.name
                decision = self._template(
                    pending.intent, slots, turn, f"customer gave the {pending.slot} asked for ({given})"
                )
                decision.intent = pending.intent
                return decision

        broken = self._tie_broken(turn)
        if broken is not None:
            turn.intent = intent = broken
        confident = not intent.out_of_scope and intent.confidence >= self.config.intents.confident
        # Read in its conversation (agent/steps/context.py): the readings agreed with the active topic.
        followed = not intent.out_of_scope and not confident and turn.context is not None
        agreed = not intent.out_of_scope and not confident and not followed and self._faq_agrees(turn)
        confident = confident or agreed or followed
        why = f"{intent.confidence:.2f}, best FAQ hit agrees" if agreed else f"{intent.confidence:.2f}"
        if turn.context is not None:
            why += f"; {turn.context.note}"
        if broken is not None:
            why += f", near-tie with {broken.top[0].name} broken by the best FAQ hit"
        if confident and intent.name in self.config.dialog.handoff_intents:
            return self._asked_for_person(intent.name, turn)
        if turn.sentiment <= self.config.dialog.negative_sentiment:
            return Decision(
                persona.handoff, "handoff", f"strong negative sentiment ({turn.sentiment:.2f})", handoff=True
            )
        if confident and self.templates.has(intent.name):
            slots = self._slots(intent.name, turn)
            if slots:
                page = self._page(turn, intent.name)
                if page is not None:
                    return page
                reason = f"intent {intent.name} ({why}) with {', '.join(slots)} known"
                return self._template(intent.name, slots, turn, reason)

        best = turn.faq_hits[0] if turn.faq_hits else None
        own_answer = confident and self.templates.has(intent.name)
        if best is not None and best.score >= self.config.faq.answer_threshold:
            if own_answer and best.intent is not None and best.intent != intent.name:
                why += f"; FAQ '{best.id}' ({best.score:.2f}) is {best.intent}'s"  # the intent's own answer wins
            else:
                filled = self.templates.placeholders.fill(best.answer, state.slots, self._values(turn))
                if filled.ok:
                    return Decision(filled.text, "faq", f"FAQ '{best.id}' matched with score {best.score:.2f}")
                why += f"; FAQ '{best.id}' not sent: {', '.join(filled.missing)}"
                if not own_answer:
                    return self._fallback(state, persona.clarify, f"FAQ '{best.id}' holds {filled.missing[0]}")

        page = self._page(turn, intent.name if own_answer else None)
        if page is not None:
            return page

        if intent.out_of_scope:
            return self._fallback(state, persona.fallback, f"out of scope (confidence {intent.confidence:.2f})")

        if own_answer:
            return self._template(intent.name, {}, turn, f"intent {intent.name} ({why})")

        return self._fallback(state, persona.clarify, f"low confidence ({intent.name} {intent.confidence:.2f})")

    def _page(self, turn: Turn, own_answer: str | None) -> Decision | None:
        """The answer quoted from a help-centre page, when one answers (over `own_answer`'s reply, if given)."""
        # A follow-up read in its conversation is vague by nature: a page that happens to match its words
        # must not replace the answer its topic gives.
        if self.docs is None or (own_answer is not None and turn.context is not None):
            return None
        quoted = self.docs.answer(turn, own_answer)
        if quoted is None or quoted.unsupported:
            return None
        hit = quoted.hit
        reason = f"help-centre page {hit.page} ('{hit.source}') matched with score {hit.score:.2f}"
        if own_answer is not None:
            reason += f", closer than intent {own_answer}'s examples"
        return Decision(quoted.text, "docs", reason)

    def _asked_for_person(self, intent: str, turn: Turn) -> Decision:
        """Handoff on request, in the words of the intent's template (or response) when it has one.

        That template can say how else to reach a person (phone, hours); persona.handoff, used for
        the handoffs the bot decides on its own, stays the short notice.
        """
        reason = f"customer asked for a person ({intent})"
        if self.templates.has(intent):
            result = self.templates.render(intent, {}, turn.embedding, turn.state.slots, self._values(turn))
            if isinstance(result, Rendered):
                return Decision(result.text, "handoff", reason, facts=result.facts, handoff=True)
        return Decision(self.config.persona.handoff, "handoff", reason, handoff=True)

    def _slots(self, intent: str, turn: Turn) -> dict[str, str]:
        state = turn.state
        return self.templates.fill_slots(intent, turn.graph.entities, state.slots, turn.patterns, state.values)

    @staticmethod
    def _values(turn: Turn) -> dict[str, str]:
        """Pattern values known at this turn: the session's, then this message's."""
        return {**turn.state.values, **{match.name: match.value for match in turn.patterns}}

    def _tie_broken(self, turn: Turn) -> IntentPrediction | None:
        """The runner-up intent, when it is within `faq_tiebreak` of the best and owns the best FAQ hit."""
        intent, margin = turn.intent, self.config.dialog.faq_tiebreak
        if intent is None or intent.out_of_scope or margin <= 0 or not turn.faq_hits or len(intent.top) < 2:
            return None
        first, second = intent.top[0], intent.top[1]
        if first.name != intent.name or first.confidence - second.confidence > margin:
            return None
        if turn.faq_hits[0].intent != second.name or second.name == OOS:
            return None
        return IntentPrediction(name=second.name, confidence=second.confidence, out_of_scope=False, top=intent.top)

    def _faq_agrees(self, turn: Turn) -> bool:
        """Whether the best FAQ hit is one of the predicted intent's own FAQs (`intent:` in faq.yaml)."""
        if not self.config.dialog.faq_agreement or not turn.faq_hits:
            return False
        return turn.intent is not None and turn.faq_hits[0].intent == turn.intent.name

    def _template(self, intent: str, slots: dict[str, str], turn: Turn, reason: str) -> Decision:
        state = turn.state
        result = self.templates.render(intent, slots, turn.embedding, state.slots, self._values(turn))
        if isinstance(result, Unsendable):
            return self._fallback(
                state, self.config.persona.clarify, f"{reason}; not sent: {', '.join(result.missing)}"
            )
        if isinstance(result, Ask):
            state.wait_for(
                Pending(intent=intent, slot=result.slot, entity_type=result.entity_type, options=list(result.options))
            )
            return Decision(result.text, "ask", f"{reason}; missing required detail '{result.slot}'", slots=slots)
        assert isinstance(result, Rendered)
        return Decision(result.text, "template", reason, facts=result.facts, slots=result.slots)

    def _fallback(self, state: SessionState, text: str, reason: str) -> Decision:
        count = state.count_fallback()
        if count >= self.config.dialog.handoff_after_fallbacks:
            return Decision(
                self.config.persona.handoff,
                "handoff",
                f"{reason}; {count} fallbacks in a row",
                handoff=True,
            )
        return Decision(text, "fallback", reason)
