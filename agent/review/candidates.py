"""The messages a review queue is built from: each customer message with how the bot read and answered it.

From a store, a customer turn is paired with the bot turn after it (its trace, and the
reply's rating if someone gave one); from a replay run, each line of results.jsonl is
one (no ratings there). Texts are as kept: the store and replay mask personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from agent.exceptions import DatasetError
from agent.replay.results import RESULTS_FILE, TurnResult, read_results
from agent.replay.stored import check_store_exists, conversations_in_range
from agent.storage.store import Store, StoredTurn
from agent.types import IntentScore


@dataclass(frozen=True)
class Candidate:
    """One answered customer message."""

    text: str
    predicted: str | None  # the intent the bot read
    confidence: float
    alternatives: tuple[IntentScore, ...] = ()  # the classifier's top intents, best first
    source: str = "template"  # which step answered (agent.types.Source)
    handoff: bool = False
    thumbs_down: bool = False  # the reply was rated down
    faq_intent: str | None = None  # the intent of the best FAQ hit, when it names one
    faq_score: float | None = None


def from_run(run_dir: Path) -> list[Candidate]:
    """Every replayed customer turn of a run folder (its results.jsonl)."""
    if not run_dir.is_dir():
        raise DatasetError(f"--from-run {run_dir}: no such folder; give the --out folder of a replay.")
    if not (run_dir / RESULTS_FILE).is_file():
        raise DatasetError(f"--from-run {run_dir} holds no {RESULTS_FILE}; give the --out folder of a replay.")
    return [_of_result(row) for row in read_results(run_dir)]


def _of_result(row: TurnResult) -> Candidate:
    return Candidate(
        text=row.text,
        predicted=row.intent,
        confidence=row.confidence,
        alternatives=tuple(row.intents),
        source=row.source,
        handoff=row.handoff,
        faq_intent=row.faq_intent,
        faq_score=row.faq_score,
    )


def from_store(store_url: str, since: datetime | None = None) -> list[Candidate]:
    """Every answered customer message of the conversations started at or after `since`, oldest first."""
    check_store_exists(store_url)  # reading must never create an empty store at a mistyped path
    store = Store(store_url)
    found: list[Candidate] = []
    try:
        for listed in conversations_in_range(store, since, None):
            record = store.conversation(listed.id)
            if record is not None:
                found += _pairs(record.turns)
    finally:
        store.close()
    return found


def _pairs(turns: list[StoredTurn]) -> list[Candidate]:
    """Each customer turn with the bot turn that answered it (a message still unanswered is left out)."""
    out = []
    for message, reply in pairwise(turns):
        if message.role != "customer" or reply.role != "bot" or reply.trace is None:
            continue
        trace = reply.trace
        best = trace.faq_hits[0] if trace.faq_hits else None
        out.append(
            Candidate(
                text=message.text,
                predicted=trace.intent,
                confidence=trace.confidence,
                alternatives=tuple(trace.intents),
                source=trace.source,
                handoff=trace.handoff,
                thumbs_down=reply.feedback is not None and reply.feedback.rating == "down",
                faq_intent=best.intent if best else None,
                faq_score=best.score if best else None,
            )
        )
    return out
