"""FAQ entries in the store: the statements behind `Store`'s FAQ methods, each inside the caller's transaction.

`agent.storage.store.Store` opens the session (and maps database failures to
StoreError); these functions only say what is read and written. Every change
gives the store a new FAQ revision, which other processes poll to notice it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent.bot.schemas import FaqEntry
from agent.exceptions import FaqError
from agent.storage.tables import FaqRow, MetaRow

SEED_KEY = "faq_seed_digest"
REVISION_KEY = "faq_revision"  # a new random value on every FAQ change, so other processes notice it


def entries(session: Session) -> list[FaqEntry]:
    return [row.to_entry() for row in session.scalars(select(FaqRow).order_by(FaqRow.id))]


def entry(session: Session, faq_id: str) -> FaqEntry | None:
    row = session.get(FaqRow, faq_id)
    return row.to_entry() if row else None


def seed(session: Session, wanted_entries: Sequence[FaqEntry], digest: str | None) -> tuple[int, int, int]:
    """Make the seeded entries equal faq.yaml, keeping those added or edited through the API.

    Returns (added, updated, removed).
    """
    added = updated = removed = 0
    wanted = {e.id: e for e in wanted_entries}
    marker = session.get(MetaRow, SEED_KEY)
    if digest is not None and marker is not None and marker.value == digest:
        return 0, 0, 0
    rows = {row.id: row for row in session.scalars(select(FaqRow))}
    for faq_id, wanted_entry in wanted.items():
        row = rows.get(faq_id)
        if row is None:
            session.add(_row(wanted_entry, origin="seed"))
            added += 1
        elif row.origin == "seed" and row.to_entry() != wanted_entry:
            _copy_into(row, wanted_entry)
            updated += 1
    for faq_id, row in rows.items():
        if row.origin == "seed" and faq_id not in wanted:
            session.delete(row)
            removed += 1
    if added or updated or removed:
        bump_revision(session)
    if digest is not None:
        if marker is None:
            session.add(MetaRow(key=SEED_KEY, value=digest))
        else:
            marker.value = digest
    return added, updated, removed


def add(session: Session, new: FaqEntry) -> None:
    if session.get(FaqRow, new.id) is not None:
        raise FaqError(f"FAQ id '{new.id}' already exists; use update to change it.")
    session.add(_row(new, origin="api"))
    bump_revision(session)


def update(session: Session, changed: FaqEntry) -> None:
    row = session.get(FaqRow, changed.id)
    if row is None:
        raise FaqError(f"FAQ id '{changed.id}' does not exist; use add to create it.")
    _copy_into(row, changed)
    row.origin = "api"  # edited live: re-seeding from faq.yaml leaves it alone
    bump_revision(session)


def delete(session: Session, faq_id: str) -> None:
    row = session.get(FaqRow, faq_id)
    if row is None:
        raise FaqError(f"FAQ id '{faq_id}' does not exist.")
    session.delete(row)
    bump_revision(session)


def revision(session: Session) -> str:
    row = session.get(MetaRow, REVISION_KEY)
    return row.value if row is not None else ""


def bump_revision(session: Session) -> None:
    row = session.get(MetaRow, REVISION_KEY)
    if row is None:
        session.add(MetaRow(key=REVISION_KEY, value=uuid.uuid4().hex))
    else:
        row.value = uuid.uuid4().hex


def _row(faq: FaqEntry, origin: str) -> FaqRow:
    row = FaqRow(id=faq.id, origin=origin)
    _copy_into(row, faq)
    return row


def _copy_into(row: FaqRow, faq: FaqEntry) -> None:
    row.question = faq.question
    row.alternatives = list(faq.alternatives)
    row.answer = faq.answer
    row.tags = list(faq.tags)
    row.intent = faq.intent
