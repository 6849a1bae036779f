"""`python -m agent eval conversations FILE.jsonl`: how well a bot follows labelled conversations.

Each conversation of the file (the replay JSONL format, every customer turn
labelled with the intent that serves it in context) is played through the bot
turn by turn, in a store that lives in memory only, so nothing is kept. The
figures (agent.replay.scores) say how the first turns and the follow-ups were
understood, how often an in-scope turn was refused, and how many out-of-scope
turns were caught. The decoder does not run: it never changes what a turn is
understood as, only the words of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.bot.schemas import LoggedConversation
from agent.exceptions import DatasetError
from agent.pipeline.assemble import load_bot
from agent.replay.results import TurnResult
from agent.replay.runner import LocalEngine
from agent.replay.scores import ConversationScores, score
from agent.storage.conversation_log import read_csv, read_jsonl
from agent.training.build import load_trained

SHOWN_MISSES = 15


@dataclass(frozen=True)
class ConversationReport:
    scores: ConversationScores
    rows: list[TurnResult]

    def as_dict(self) -> dict[str, object]:
        return self.scores.as_dict()


def read_labelled(path: str | Path) -> list[LoggedConversation]:
    """The conversations of `path`; any bad line, or a customer turn without a label, is a one-line error."""
    source = Path(path)
    log = read_csv(source) if source.suffix.lower() == ".csv" else read_jsonl(source)
    if log.problems:
        first = log.problems[0]
        where = f"{first.source} line {first.line}" if first.line else first.source
        what = first.message.removesuffix("; skipped").removesuffix("; row skipped")
        more = f" ({len(log.problems) - 1} more bad lines)" if len(log.problems) > 1 else ""
        raise DatasetError(f"{where}: {what}{more}; every line must be a valid labelled conversation.")
    if not log.conversations:
        raise DatasetError(f"{source} holds no conversations.")
    for conv in log.conversations:
        for turn in conv.customer_turns():
            if turn.gold_intent is None:
                raise DatasetError(
                    f"{source} line {conv.line}: conversation '{conv.conversation_id}' turn {turn.index} has no "
                    "`intent`; every customer turn needs the intent that serves it."
                )
    return log.conversations


def evaluate_conversations(path: str | Path, bot_dir: str | Path, progress: bool = False) -> ConversationReport:
    """Play the labelled conversations of `path` through the bot in `bot_dir` (trained first if stale)."""
    conversations = read_labelled(path)
    bot = load_bot(bot_dir)  # the labels are checked before any training starts
    labels = {str(turn.gold_intent) for conv in conversations for turn in conv.customer_turns()}
    unknown = sorted(labels - set(bot.intent_names(include_oos=True)))
    if unknown:
        raise DatasetError(
            f"{path}: intent(s) {', '.join(unknown[:5])} are not intents of bot '{bot.config.name}' "
            "(its knowledge/intents.yaml)."
        )
    agent = load_trained(bot.path, store_url="sqlite:///:memory:", decoder=False, progress=progress)
    try:
        rows = [row for step in LocalEngine(agent).steps(conversations) for rows in step.finished for row in rows]
    finally:
        agent.close()
    return ConversationReport(score(rows), rows)


def format_report(report: ConversationReport, path: str | Path) -> str:
    s = report.scores
    lines = [
        f"{path}: {s.conversations} conversations, {s.labelled_turns} customer turns "
        f"({s.first_turns} first, {s.follow_up_turns} follow-ups)",
        f"  first-turn accuracy  {_pct(s.first_turn_accuracy)}",
        f"  follow-up accuracy   {_pct(s.follow_up_accuracy)}",
        f"  accuracy             {_pct(s.accuracy)}",
        f"  in-scope refused     {_pct(s.in_scope_refused)} ({s.refused_turns} of {s.in_scope_turns})",
        f"  out-of-scope recall  {_pct(s.oos_recall)} (of {s.oos_turns})",
    ]
    misses = [row for row in report.rows if row.correct is False][:SHOWN_MISSES]
    if misses:
        lines.append("  first misses (conversation, turn: text -> read as, gold):")
        lines += [
            f"    {r.conversation_id} {r.customer_turn}: {r.text!r} -> {r.intent}, {r.gold_intent}" for r in misses
        ]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
