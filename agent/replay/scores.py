"""How well a replay understood its conversations: first turns and follow-ups apart, refusals, out of scope.

    first_turn_accuracy   the conversation's first customer turn read as its gold intent
    follow_up_accuracy    every later customer turn (the ones that may need the conversation so far)
    accuracy              every labelled customer turn
    in_scope_refused      in-scope turns (gold label not `oos`) answered with a fallback: the out-of-scope
                          refusal, the request to rephrase, or a handoff after fallbacks in a row
    oos_recall            of the turns labelled `oos`, the share the bot read as out of scope

Only labelled turns count; a figure with no turns to count is None. The replay
report and `python -m agent eval conversations` both use these definitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from agent.bot.schemas import OOS
from agent.replay.results import TurnResult


def refused(row: TurnResult) -> bool:
    """Whether the bot declined to answer this turn (fallback, or a handoff because it kept failing)."""
    return row.source == "fallback" or (row.source == "handoff" and "fallbacks in a row" in row.reason)


@dataclass(frozen=True)
class ConversationScores:
    """Understanding figures over the labelled customer turns of a replay."""

    first_turn_accuracy: float | None
    follow_up_accuracy: float | None
    accuracy: float | None
    in_scope_refused: float | None
    oos_recall: float | None
    conversations: int
    labelled_turns: int
    first_turns: int
    follow_up_turns: int
    in_scope_turns: int
    refused_turns: int
    oos_turns: int

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


class Understanding:
    """Counts, one turn at a time, what `ConversationScores` reports (a replay's results are streamed)."""

    def __init__(self) -> None:
        self.conversations: set[str] = set()
        # kind -> [turns, good]: first and later turns read right, in-scope turns refused, oos turns caught
        self.counts = {kind: [0, 0] for kind in ("first", "later", "in_scope", "oos")}

    def add(self, row: TurnResult) -> None:
        if row.gold_intent is None:
            return
        self.conversations.add(row.conversation_id)
        self._count("first" if row.customer_turn == 0 else "later", bool(row.correct))
        if row.gold_intent == OOS:
            self._count("oos", row.intent == OOS)
        else:
            self._count("in_scope", refused(row))

    def _count(self, kind: str, good: bool) -> None:
        self.counts[kind][0] += 1
        self.counts[kind][1] += good

    def scores(self) -> ConversationScores:
        (first, first_ok), (later, later_ok) = self.counts["first"], self.counts["later"]
        (in_scope, declined), (oos, caught) = self.counts["in_scope"], self.counts["oos"]
        return ConversationScores(
            first_turn_accuracy=_share(first_ok, first),
            follow_up_accuracy=_share(later_ok, later),
            accuracy=_share(first_ok + later_ok, first + later),
            in_scope_refused=_share(declined, in_scope),
            oos_recall=_share(caught, oos),
            conversations=len(self.conversations),
            labelled_turns=first + later,
            first_turns=first,
            follow_up_turns=later,
            in_scope_turns=in_scope,
            refused_turns=declined,
            oos_turns=oos,
        )


def score(rows: Iterable[TurnResult]) -> ConversationScores:
    """The figures of the labelled turns among `rows`."""
    tally = Understanding()
    for row in rows:
        tally.add(row)
    return tally.scores()


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
