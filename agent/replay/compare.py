"""Comparing two replays of the same log: which turns changed intent or answer source.

Turns are matched by (conversation id, customer turn). A change is a
*regression* when the turn has a gold label that the previous run got right
and this one gets wrong, or, without a verdict from the label, when the bot
used to answer (FAQ, template, decoder, a question) and now falls back or
hands over; the reverse is an *improvement*; anything else is a plain change.
Regressions are listed first, because that is what blocks a release.
The listed turns are masked by the bot's `privacy:` rules, so a previous run
written unmasked (by an older version) shows nothing in clear.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from agent.pipeline.privacy import Masker
from agent.replay.results import TurnResult, read_results

MAX_LISTED = 500
ANSWERED = frozenset({"faq", "template", "decoder", "ask"})
KIND_ORDER = {"regression": 0, "changed": 1, "improvement": 2}


class _Seen(NamedTuple):
    text: str
    gold: str | None
    intent: str | None
    source: str
    confidence: float
    reply: str


def _seen(row: TurnResult) -> _Seen:
    return _Seen(row.text, row.gold_intent, row.intent, row.source, row.confidence, row.reply)


def classify(before: _Seen, after: _Seen) -> str | None:
    """'regression', 'improvement', 'changed', or None when intent and source are both unchanged."""
    if before.intent == after.intent and before.source == after.source:
        return None
    gold = after.gold if after.gold is not None else before.gold
    if gold is not None:
        was, now = before.intent == gold, after.intent == gold
        if was != now:
            return "improvement" if now else "regression"
    was_answered, now_answered = before.source in ANSWERED, after.source in ANSWERED
    if was_answered != now_answered:
        return "improvement" if now_answered else "regression"
    return "changed"


def compare_runs(current: Path, previous: Path, masker: Masker | None = None) -> dict[str, Any]:
    """Turn-by-turn differences between the replay in `current` and the one in `previous` (listed turns masked
    by `masker` when given)."""
    before = {(row.conversation_id, row.customer_turn): _seen(row) for row in read_results(previous)}
    counts = {"regression": 0, "improvement": 0, "changed": 0}
    compared = only_current = intent_changed = source_changed = 0
    labelled = right_before = right_now = 0
    changes: list[dict[str, Any]] = []
    previous_texts: dict[tuple[str, int], str] = {}  # what the previous run's line says the customer wrote
    matched: set[tuple[str, int]] = set()
    for row in read_results(current):
        key = (row.conversation_id, row.customer_turn)
        old = before.get(key)
        if old is None:
            only_current += 1
            continue
        matched.add(key)
        compared += 1
        new = _seen(row)
        gold = new.gold if new.gold is not None else old.gold
        if gold is not None:
            labelled += 1
            right_before += old.intent == gold
            right_now += new.intent == gold
        kind = classify(old, new)
        if kind is None:
            continue
        previous_texts[(row.conversation_id, row.turn)] = old.text
        counts[kind] += 1
        intent_changed += old.intent != new.intent
        source_changed += old.source != new.source
        changes.append(
            {
                "kind": kind,
                "conversation_id": row.conversation_id,
                "turn": row.turn,
                "text": row.text,
                "gold_intent": gold,
                "previous": {
                    "intent": old.intent,
                    "source": old.source,
                    "confidence": old.confidence,
                    "reply": old.reply,
                },
                "current": {
                    "intent": new.intent,
                    "source": new.source,
                    "confidence": new.confidence,
                    "reply": new.reply,
                },
            }
        )
    changes.sort(key=lambda c: (KIND_ORDER[c["kind"]], c["conversation_id"], c["turn"]))
    if masker is not None:
        for change in changes[:MAX_LISTED]:
            _mask_change(change, previous_texts[(change["conversation_id"], change["turn"])], masker)
    return {
        "previous": str(previous),
        "compared_turns": compared,
        "only_in_current": only_current,
        "only_in_previous": len(before) - len(matched),
        "intent_changed": intent_changed,
        "source_changed": source_changed,
        "regressions": counts["regression"],
        "improvements": counts["improvement"],
        "other_changes": counts["changed"],
        "labelled_compared": labelled,
        "previous_accuracy": round(right_before / labelled, 4) if labelled else None,
        "current_accuracy": round(right_now / labelled, 4) if labelled else None,
        "turns": changes[:MAX_LISTED],
        "listed": min(len(changes), MAX_LISTED),
    }


def _mask_change(change: dict[str, Any], previous_text: str, masker: Masker) -> None:
    """Mask a listed change in place: the customer's text, and each reply where it repeats that text."""
    for side, text in (("previous", previous_text), ("current", change["text"])):
        scrub = masker.scrubber(text)
        if scrub is not None:
            change[side]["reply"] = scrub(change[side]["reply"])
    change["text"] = masker.mask(change["text"])
