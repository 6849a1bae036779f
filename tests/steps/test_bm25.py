"""BM25: a rare word shared with the query singles out its text; words found everywhere weigh little."""

from __future__ import annotations

import numpy as np

from agent.steps.bm25 import BM25, words

TEXTS = [
    "Freeze your card in the app under Cards.",
    "A deleted virtual card can't be restored: create a new one instead.",
    "Remote-access apps such as AnyDesk let a caller control your phone; never install one for a caller.",
    "Your card arrives in five working days.",
]


def test_words_are_lower_case_runs_without_apostrophes() -> None:
    assert words("Can't find MY card's PIN, 2nd try!") == ["cant", "find", "my", "cards", "pin", "2nd", "try"]


def test_a_rare_shared_word_ranks_its_text_first() -> None:
    index = BM25(TEXTS)
    assert int(np.argmax(index.scores("someone wants me to install anydesk"))) == 2
    assert int(np.argmax(index.scores("can I get a deleted card back"))) == 1


def test_common_words_weigh_less_than_rare_ones() -> None:
    index = BM25(TEXTS)
    card = index.scores("card")  # in three of the four texts
    restored = index.scores("restored")  # in one
    assert restored.max() > card.max() > 0


def test_repeated_query_words_count_once_and_unknown_words_score_nothing() -> None:
    index = BM25(TEXTS)
    assert np.allclose(index.scores("anydesk anydesk anydesk"), index.scores("anydesk"))
    assert not index.scores("zebra xylophone").any()
    assert not BM25([]).scores("anything").any() and BM25([]).scores("anything").shape == (0,)
