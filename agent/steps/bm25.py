"""Okapi BM25 over short texts: the word-matching half of the help-centre search (agent/steps/docs.py).

Sentence embeddings place "can I undo deleting a virtual card" near every passage about
virtual cards; the passage that says "a deleted card can't be restored" shares its rare
words. BM25 scores exactly that: each query word found in a text, weighted by how rare
the word is across the texts (its IDF) and damped for repeats and long texts.

Words are runs of letters and digits, lower-cased, with apostrophes dropped ("don't" ->
"dont"); there is no stop-word list or stemmer, so it reads any language written with
spaces: words found everywhere ("the", "my") weigh almost nothing through their IDF.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

_WORD = re.compile(r"\w+")
K1 = 1.2  # how quickly repeats of a word stop adding to a text's score
B = 0.75  # how much a long text is damped


def words(text: str) -> list[str]:
    """The words BM25 matches: lower-cased runs of letters and digits, apostrophes dropped."""
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


class BM25:
    """A BM25 index of `texts`; `scores(query)` gives every text's score for one query."""

    def __init__(self, texts: Sequence[str]) -> None:
        tokenised = [Counter(words(text)) for text in texts]
        self.vocabulary: dict[str, int] = {}
        rows, cols, counts = [], [], []
        for row, counter in enumerate(tokenised):
            for word, count in counter.items():
                rows.append(row)
                cols.append(self.vocabulary.setdefault(word, len(self.vocabulary)))
                counts.append(count)
        n = len(tokenised)
        tf = sparse.csr_matrix((counts, (rows, cols)), shape=(n, len(self.vocabulary)), dtype=np.float64)
        lengths = np.array([sum(c.values()) for c in tokenised], dtype=np.float64)
        mean_length = float(lengths.mean()) if n and lengths.sum() else 1.0
        documents = np.bincount(cols, minlength=len(self.vocabulary)).astype(np.float64)
        idf = np.log(1.0 + (n - documents + 0.5) / (documents + 0.5))
        # Each stored entry becomes idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean)).
        damp = K1 * (1 - B + B * lengths / mean_length)
        tf = tf.tocoo()
        weights = idf[tf.col] * tf.data * (K1 + 1) / (tf.data + damp[tf.row])
        self.matrix = sparse.csr_matrix((weights, (tf.row, tf.col)), shape=tf.shape)

    def scores(self, query: str) -> np.ndarray:
        """Every text's BM25 score for `query` (each distinct query word counted once)."""
        found = sorted({self.vocabulary[w] for w in words(query) if w in self.vocabulary})
        if not found:
            return np.zeros(self.matrix.shape[0])
        return np.asarray(self.matrix[:, found].sum(axis=1)).ravel()
