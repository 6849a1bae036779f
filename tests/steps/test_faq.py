"""FAQ index on real FAISS: retrieval, live add/update/delete, incremental sync, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from weights import Weights

from agent.bot.schemas import FaqEntry
from agent.config import BotConfig, FaqConfig
from agent.exceptions import BuildError
from agent.steps.encoder import Encoder
from agent.steps.faq import FaqIndex
from agent.types import SessionState, Turn

ENTRIES = [
    FaqEntry(
        id="fees",
        question="How much does the card cost?",
        alternatives=["Is the card free?"],
        answer="The card is free.",
    ),
    FaqEntry(
        id="lost",
        question="What do I do if I lose my card?",
        alternatives=["my card was stolen"],
        answer="Freeze it in the app.",
    ),
    FaqEntry(id="hours", question="When is support open?", answer="24/7."),
]


@pytest.fixture()
def index(encoder: Encoder) -> FaqIndex:
    idx = FaqIndex(encoder.dim, FaqConfig(top_k=2), encoder.fingerprint)
    assert idx.sync(ENTRIES, encoder.encode) == 3
    return idx


def test_retrieves_by_any_phrasing(index: FaqIndex, encoder: Encoder) -> None:
    hits = index.search(encoder.encode(["someone stole my card", "are cards free of charge"]))
    assert hits[0][0].id == "lost" and hits[1][0].id == "fees"
    assert len(hits[0]) == 2 and hits[0][0].score >= hits[0][1].score


def test_add_update_delete_without_rebuild(index: FaqIndex, encoder: Encoder) -> None:
    new = FaqEntry(id="iban", question="Where do I find my IBAN?", answer="Account > Details.")
    assert index.upsert([new], encoder.encode) == 1
    assert index.search(encoder.encode(["what is my IBAN"]))[0][0].id == "iban"
    changed = new.model_copy(update={"question": "How do I order a metal card?"})
    index.upsert([changed], encoder.encode)
    top = index.search(encoder.encode(["order a metal card"]))[0][0]
    assert top.id == "iban" and top.question.startswith("How do I order")
    index.remove(["iban"])
    assert "iban" not in {h.id for h in index.search(encoder.encode(["order a metal card"]))[0]}
    assert index.index.ntotal == 5


def test_sync_encodes_only_changes(index: FaqIndex, encoder: Encoder) -> None:
    assert index.sync(ENTRIES, encoder.encode) == 0
    edited = [*ENTRIES[:2], ENTRIES[2].model_copy(update={"alternatives": ["opening hours"]})]
    assert index.sync(edited, encoder.encode) == 1
    assert index.sync(edited[:1], encoder.encode) == 0
    assert len(index) == 1 and index.index.ntotal == 2


def test_save_load_then_sync(index: FaqIndex, encoder: Encoder, tmp_path: Path) -> None:
    index.save(tmp_path)
    loaded = FaqIndex.load(tmp_path, BotConfig(name="t", faq=FaqConfig(top_k=2)), encoder)
    assert loaded.sync(ENTRIES, encoder.encode) == 0  # nothing re-encoded
    assert loaded.search(encoder.encode(["when can I reach support"]))[0][0].id == "hours"


def test_other_encoder_reencodes(index: FaqIndex, encoder: Encoder, tmp_path: Path) -> None:
    index.save(tmp_path)
    other = Weights(dim=encoder.dim * 2, fingerprint="another-encoder")
    loaded = FaqIndex.load(tmp_path, BotConfig(name="t"), other)
    assert loaded.dim == other.dim  # built for the other encoder's width, not the saved one's
    assert loaded.sync(ENTRIES, lambda texts: np.tile(encoder.encode(texts), 2) / np.sqrt(2)) == 3


def test_empty_index(encoder: Encoder) -> None:
    assert FaqIndex(encoder.dim, FaqConfig(), "x").search(encoder.encode(["hi"])) == [[]]


def test_load_before_any_save_is_empty_and_unreadable_is_an_error(encoder: Encoder, tmp_path: Path) -> None:
    fresh = FaqIndex.load(tmp_path, BotConfig(name="t"), encoder)
    assert len(fresh) == 0 and fresh.dim == encoder.dim
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(BuildError, match="python -m agent train"):
        FaqIndex.load(tmp_path, BotConfig(name="t"), encoder)


# --- issue 19: text without a letter or digit matches nothing ---------------------------------------

UNASSIGNED = "\u0378"  # no character has this code point; the encoder reads it as "[UNK]", like any emoji
EMOJI_ONLY = ["😀", "👍🏽👍🏽👍🏽", "🇩🇪 🎉", "😡" * 300]


def _turns(encoder: Encoder, texts: list[str]) -> list[Turn]:
    turns = [Turn(session_id="s", text=text, state=SessionState()) for text in texts]
    for turn, vector in zip(turns, encoder.encode(texts), strict=True):
        turn.embedding = vector
    return turns


def test_a_question_of_one_unassigned_character_does_not_answer_emoji(encoder: Encoder) -> None:
    junk = FaqEntry(id="junk", question=UNASSIGNED, answer="Gotcha.")
    index = FaqIndex(encoder.dim, FaqConfig(top_k=3), encoder.fingerprint)
    index.sync([*ENTRIES, junk], encoder.encode)
    turns = _turns(encoder, [*EMOJI_ONLY, "how much is the card 😀", "someone stole my card"])
    index(turns)
    for turn in turns:
        assert all(hit.id != "junk" for hit in turn.faq_hits), turn.text
    assert all(turn.faq_hits == [] for turn in turns[: len(EMOJI_ONLY)])  # nothing to match them by
    assert turns[-2].faq_hits[0].id == "fees" and turns[-1].faq_hits[0].id == "lost"


def test_an_entry_keeps_its_worded_phrasings(encoder: Encoder) -> None:
    entry = FaqEntry(id="hours", question="🕐❓", alternatives=["When is support open?"], answer="24/7.")
    index = FaqIndex(encoder.dim, FaqConfig(top_k=1), encoder.fingerprint)
    index.sync([entry, ENTRIES[0]], encoder.encode)
    assert len(index.vector_ids["hours"]) == 1
    (turn,) = _turns(encoder, ["what are your opening hours"])
    index([turn])
    assert turn.faq_hits[0].id == "hours"
