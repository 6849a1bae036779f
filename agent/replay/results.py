"""`results.jsonl`: one line per replayed customer turn, written so an interrupted run loses nothing.

A conversation's lines are written together, in one `write` followed by a
flush, only once its last customer turn is answered. So after Ctrl-C or a
kill the file holds whole conversations, plus at worst one torn line at the
end; `ResultsFile.open(resume=True)` drops that tail and any conversation
without all its turns, and returns the ids that are done, which the runner
skips. A conversation is therefore never replayed twice nor half-recorded.

Every line is masked by the bot's `privacy:` rules as replay's store is, with the
same placeholders: the customer's text as the store keeps it, the reply and its
trace wherever they repeat the customer's data, and the logged agent reply whole
(a person may have typed anything in it, the bank's numbers included).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ValidationError

from agent.bot.schemas import CustomerTurn
from agent.exceptions import ReplayError
from agent.pipeline.privacy import Masker
from agent.types import ContextReading, IntentScore, Reply

RESULTS_FILE = "results.jsonl"


class TurnResult(BaseModel):
    """One replayed customer turn: what the log says and what the bot answered now."""

    conversation_id: str
    turn: int  # position in the logged conversation (agent turns included)
    customer_turn: int  # 0-based among the conversation's customer turns
    customer_turns: int  # how many customer turns the conversation has (to tell a whole conversation)
    text: str
    gold_intent: str | None = None
    intent: str | None = None
    confidence: float = 0.0
    source: str
    reason: str = ""
    reply: str
    logged_reply: str | None = None
    handoff: bool = False
    faq_id: str | None = None  # best FAQ hit, whether or not it answered
    faq_intent: str | None = None  # the intent that FAQ hit belongs to, if it names one
    faq_score: float | None = None  # its cosine similarity
    intents: list[IntentScore] = []  # the classifier's top intents (the review queue's near-ties)
    decoder: dict[str, Any] | None = None  # the decoder's trace when one ran (accepted, rejected, scores)
    context: ContextReading | None = None  # how the conversation so far changed the reading, when it did
    latency_ms: float = 0.0  # the turn's share of its batched call (timings_ms["total"])
    timings_ms: dict[str, float] = {}
    batch_size: int = 1  # messages in the batched call that answered this turn
    batch_ms: float = 0.0  # wall time of that call

    @classmethod
    def from_reply(
        cls,
        conversation_id: str,
        turn: CustomerTurn,
        ordinal: int,
        total: int,
        reply: Reply,
        batch_size: int,
        batch_ms: float,
        masker: Masker,
    ) -> TurnResult:
        """The line of one answered turn, masked by `masker` (the bot's `privacy:` rules)."""
        reply = masker.mask_reply(reply, turn.text)
        decoder = reply.decoder.model_dump(mode="json") if reply.decoder is not None else None
        return cls(
            conversation_id=conversation_id,
            turn=turn.index,
            customer_turn=ordinal,
            customer_turns=total,
            text=masker.mask(turn.text),
            gold_intent=turn.gold_intent,
            intent=reply.intent,
            confidence=reply.confidence,
            source=reply.source,
            reason=reply.reason,
            reply=reply.text,
            logged_reply=masker.mask(turn.logged_reply) if turn.logged_reply is not None else None,
            handoff=reply.handoff,
            faq_id=reply.faq_hits[0].id if reply.faq_hits else None,
            faq_intent=reply.faq_hits[0].intent if reply.faq_hits else None,
            faq_score=reply.faq_hits[0].score if reply.faq_hits else None,
            intents=reply.intents,
            decoder=decoder,
            context=reply.context,
            latency_ms=reply.timings_ms.get("total", 0.0),
            timings_ms=reply.timings_ms,
            batch_size=batch_size,
            batch_ms=round(batch_ms, 3),
        )

    @property
    def correct(self) -> bool | None:
        """Whether the predicted intent equals the gold label; None without one."""
        return None if self.gold_intent is None else self.intent == self.gold_intent


class ResultsFile:
    """Appends whole conversations to `DIR/results.jsonl` and recovers it after an interruption."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / RESULTS_FILE
        self._handle: IO[str] | None = None
        self.dropped_lines = 0  # lines removed by a resume (a torn tail or a partial conversation)

    def open(self, resume: bool) -> set[str]:
        """Open for appending; returns the conversation ids already complete (empty unless resuming)."""
        exists = self.path.is_file() and self.path.stat().st_size > 0
        if exists and not resume:
            raise ReplayError(
                f"{self.path} already holds a replay; add --resume to continue it, or choose another --out folder."
            )
        done: set[str] = set()
        if exists:
            done = self._recover()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")
        return done

    def _recover(self) -> set[str]:
        """Keep only complete conversations; rewrite the file (atomically) if anything had to go."""
        kept_lines: list[bytes] = []
        by_conv: dict[str, dict[int, bytes]] = {}
        totals: dict[str, int] = {}
        order: list[str] = []
        changed = False
        for raw in self.path.read_bytes().splitlines(keepends=True):
            if not raw.endswith(b"\n"):
                changed = True  # torn last line: the process died inside a write
                continue
            try:
                row = TurnResult.model_validate_json(raw)
            except ValidationError:
                changed = True
                continue
            turns = by_conv.setdefault(row.conversation_id, {})
            if not turns:
                order.append(row.conversation_id)
            if row.customer_turn in turns:
                changed = True  # a duplicate line: keep the first
                continue
            turns[row.customer_turn] = raw
            totals[row.conversation_id] = row.customer_turns
        done: set[str] = set()
        for conv_id in order:
            turns = by_conv[conv_id]
            if len(turns) == totals[conv_id] and set(turns) == set(range(totals[conv_id])):
                done.add(conv_id)
                kept_lines.extend(turns[i] for i in range(totals[conv_id]))
            else:
                changed = True
        if changed:
            before = sum(1 for _ in self.path.open("rb"))
            tmp = self.path.with_suffix(".jsonl.tmp")
            tmp.write_bytes(b"".join(kept_lines))
            os.replace(tmp, self.path)
            self.dropped_lines = before - len(kept_lines)
        return done

    def write(self, conversations: Sequence[Sequence[TurnResult]]) -> None:
        """Append finished conversations in one write, then flush so a kill cannot lose them."""
        if not conversations:
            return
        assert self._handle is not None, "open() first"
        self._handle.write("".join(row.model_dump_json() + "\n" for rows in conversations for row in rows))
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_results(folder: Path) -> Iterator[TurnResult]:
    """Every turn in `folder/results.jsonl`; a torn or foreign line is skipped."""
    path = folder / RESULTS_FILE
    if not path.is_file():
        raise ReplayError(f"{folder} holds no {RESULTS_FILE}; give the --out folder of an earlier replay.")
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                continue
            try:
                yield TurnResult.model_validate_json(raw)
            except ValidationError:
                continue
