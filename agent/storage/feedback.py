"""Feedback on replies: the statements behind `Store.rate` and the transcript's thumbs (the `feedback` table).

A customer (the widget's thumbs, HTTP `POST /v1/conversations/{id}/feedback`) or an
agent (the TUI) rates one bot reply, named by its turn number `seq` as the
transcript shows it. The latest verdict on a reply replaces an earlier one, so a
customer who changes their mind leaves one rating, and a review counts each reply once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.exceptions import FeedbackError
from agent.storage.tables import FeedbackRow, TurnRow, utc_now
from agent.types import Feedback, Rating


def rate(session: Session, conversation_id: str, seq: int, rating: Rating, comment: str | None) -> Feedback:
    """Keep `rating` for the bot reply numbered `seq` (the conversation exists; the caller checked)."""
    role = session.scalar(select(TurnRow.role).where(TurnRow.conversation_id == conversation_id, TurnRow.seq == seq))
    if role != "bot":
        replies = session.scalars(
            select(TurnRow.seq)
            .where(TurnRow.conversation_id == conversation_id, TurnRow.role == "bot")
            .order_by(TurnRow.seq)
        ).all()
        what = "a customer message" if role == "customer" else "no turn"
        numbers = _numbers(list(replies))
        raise FeedbackError(
            f"turn {seq} of conversation '{conversation_id}' is {what}, not a reply; "
            f"its replies are {numbers} (the transcript numbers each turn)"
        )
    now = utc_now()
    row = session.get(FeedbackRow, (conversation_id, seq))
    if row is None:
        session.add(FeedbackRow(conversation_id=conversation_id, seq=seq, rating=rating, comment=comment, at=now))
    else:
        row.rating, row.comment, row.at = rating, comment, now
    return Feedback(rating=rating, comment=comment, at=now)


def of_conversation(session: Session, conversation_id: str) -> dict[int, Feedback]:
    """Each rated reply's verdict, by its turn number."""
    rows = session.scalars(select(FeedbackRow).where(FeedbackRow.conversation_id == conversation_id)).all()
    return {row.seq: Feedback(rating=row.rating, comment=row.comment, at=row.at) for row in rows}  # type: ignore[arg-type]


def _numbers(seqs: list[int]) -> str:
    if not seqs:
        return "none yet"
    shown = ", ".join(str(s) for s in seqs[:10])
    return shown + (f" ... {seqs[-1]}" if len(seqs) > 10 else "")
