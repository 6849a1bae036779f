"""The lexical half of the intent classifier: TF-IDF n-grams and a logistic regression (scikit-learn).

The dense head reads the sentence embedding, which smooths over the exact words
of a message; banking intents often hinge on one of them ("pending" against
"declined", "top-up" against "transfer"). A logistic regression over character
n-grams (2-5, inside word boundaries, so typos still share most features) and
word uni- and bigrams sees those words directly. `IntentClassifier` blends
its calibrated log-probabilities with the dense head's (`intents.lexical_weight`).

The model is stored with pickle in the bot's build folder: it is an artifact
that `train` wrote, never a file from elsewhere.

A "word" (a run without spaces) longer than 100 characters is read as its first 100
(`bounded`): the encoder reads such a run as one unknown token (MiniLM's tokenizer
gives up on words over 100 characters), and without the bound a 2,000-character run
of emoji or digits cost the TF-IDF analyser 8,000 character n-grams, as much as the
whole encoder did for that message (issue 19). No message of the public datasets or
of the demo's examples has such a word, so their features are unchanged.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

LEXICAL_FILE = "lexical.pkl"
MAX_WORD_CHARS = 100  # as MiniLM's WordPiece `max_input_chars_per_word`
LONG_WORD = re.compile(rf"(?<!\S)(\S{{{MAX_WORD_CHARS}}})\S+")  # tried only where a word starts


def bounded(texts: Sequence[str]) -> list[str]:
    """`texts` with every run of over MAX_WORD_CHARS non-space characters cut to its first MAX_WORD_CHARS."""
    return [LONG_WORD.sub(r"\1", text) for text in texts]


class LexicalModel:
    """TF-IDF (character 2-5-grams + word 1-2-grams) and a class-balanced multinomial logistic regression."""

    def __init__(self, vectoriser: Any, regression: Any, classes: int) -> None:
        self.vectoriser = vectoriser
        self.regression = regression
        self.classes = classes

    @classmethod
    def fit(cls, texts: Sequence[str], y: np.ndarray, classes: int, strength: float) -> LexicalModel:
        """Train on messages and class indices in [0, classes); `strength` is the inverse L2 penalty (C)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_union

        # min_df=2 drops one-off character n-grams (mostly typos) but only when there is enough text.
        min_df = 2 if len(texts) >= 200 else 1
        vectoriser = make_union(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=min_df),
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
        )
        features = vectoriser.fit_transform(bounded(texts))
        regression = LogisticRegression(C=strength, max_iter=300, class_weight="balanced")
        regression.fit(features, y)
        return cls(vectoriser, regression, classes)

    def log_probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Log-probabilities (n, classes); a class absent from this model's training rows gets a tiny probability."""
        probs = np.full((len(texts), self.classes), 1e-9, dtype=np.float64)
        if len(texts):
            features = self.vectoriser.transform(bounded(texts))
            probs[:, self.regression.classes_] = self.regression.predict_proba(features)
        return np.log(np.clip(probs, 1e-9, 1.0)).astype(np.float32)

    def save(self, folder: Path) -> None:
        with (folder / LEXICAL_FILE).open("wb") as file:
            pickle.dump({"vectoriser": self.vectoriser, "regression": self.regression, "classes": self.classes}, file)

    @classmethod
    def load(cls, folder: Path) -> LexicalModel:
        with (folder / LEXICAL_FILE).open("rb") as file:
            state = pickle.load(file)
        return cls(state["vectoriser"], state["regression"], int(state["classes"]))
