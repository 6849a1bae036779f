"""Grouping uncovered messages into proposed intents: near-duplicates once, clusters, names, typical examples.

Clustering is agglomerative (scikit-learn, cosine distance, average linkage) cut at a
distance threshold, so the number of new intents is not fixed in advance and no random
start is involved: the same messages give the same proposals. The threshold was chosen
on CLINC150's train split (`python -m bench.intent_discovery --tune`, BENCHMARKS.md).

A cluster's name is its most distinctive words: each word's share of the cluster's
messages times how rare it is across all uncovered messages (class-based TF-IDF), the
top ones joined by `_`, made unique against the bot's intents and the other proposals.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from agent.bot.importing.messages import intent_name
from agent.bot.schemas import OOS

DISTANCE_THRESHOLD = 0.65  # cosine distance, average linkage: chosen on CLINC150 train (bench.intent_discovery)
DUPLICATE_COSINE = 0.95  # two messages this close in meaning are one message said twice
MAX_MESSAGES = 8000  # average linkage keeps a distance matrix: n^2 floats (8000 -> ~250 MB)
EXAMPLES = 10
NAME_WORDS = 3
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Proposal:
    """One proposed intent: its name, its most typical messages, and how many distinct messages it holds."""

    name: str
    examples: list[str]  # closest to the cluster's centre first
    size: int
    words: list[str]  # the distinctive words the name was made from


@dataclass(frozen=True)
class Clustering:
    """What clustering the distinct uncovered messages gave."""

    proposals: list[Proposal]  # largest first
    texts: list[str]  # the distinct messages clustered (near-duplicates once), in log order
    unclustered: int  # distinct messages in no proposal (clusters too small, or beyond --max-intents)
    sampled: bool  # more than MAX_MESSAGES distinct messages: a fixed sample of them was clustered
    labels: np.ndarray  # per distinct message: its proposal's index, or -1

    @property
    def distinct(self) -> int:
        return len(self.texts)


def distinct(texts: Sequence[str], vectors: np.ndarray) -> tuple[list[str], np.ndarray, bool]:
    """The messages with near-duplicates dropped (the first of each kept), their vectors, and whether sampled.

    Past MAX_MESSAGES different wordings a fixed sample of them is kept (a stable hash of the
    text picks it, not the file's order), so the similarity matrix stays bounded.
    """
    keep: list[int] = []
    seen: set[str] = set()
    for i, text in enumerate(texts):
        key = " ".join(_WORD.findall(text.lower())) or text
        if key not in seen:
            seen.add(key)
            keep.append(i)
    sampled = len(keep) > MAX_MESSAGES
    if sampled:
        keep = sorted(sorted(keep, key=lambda i: hashlib.sha1(texts[i].encode()).hexdigest())[:MAX_MESSAGES])
    chosen = vectors[keep]
    if len(keep) > 1:
        # Greedy in file order: a message this close to an earlier kept one is a repeat of it.
        similar = chosen @ chosen.T
        kept_mask = np.ones(len(keep), dtype=bool)
        for i in range(len(keep)):
            if kept_mask[i]:
                later = np.flatnonzero(similar[i, i + 1 :] >= DUPLICATE_COSINE) + i + 1
                kept_mask[later] = False
        keep = [k for k, m in zip(keep, kept_mask, strict=True) if m]
    return [texts[i] for i in keep], vectors[keep], sampled


def cluster_labels(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Agglomerative clusters (cosine, average linkage) cut at `threshold`; one label per row."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric="cosine", linkage="average")
    return model.fit_predict(vectors.astype(np.float64))


def propose(
    texts: Sequence[str],
    vectors: np.ndarray,
    taken: Collection[str],
    *,
    min_size: int,
    max_intents: int | None,
    threshold: float = DISTANCE_THRESHOLD,
) -> Clustering:
    """Proposed intents from the uncovered messages `texts` (with unit `vectors`); `taken`: names in use."""
    unique, matrix, sampled = distinct(texts, vectors)
    raw = cluster_labels(matrix, threshold)
    counts = Counter(int(label) for label in raw)
    big = sorted((c for c, n in counts.items() if n >= min_size), key=lambda c: (-counts[c], c))
    if max_intents is not None:
        big = big[:max_intents]
    labels = np.full(len(unique), -1, dtype=int)
    for index, cluster in enumerate(big):
        labels[raw == cluster] = index
    groups = [np.flatnonzero(labels == index) for index in range(len(big))]
    words = _distinctive_words(unique, groups)
    used = {name.lower() for name in taken} | {OOS}
    proposals = []
    for members, top in zip(groups, words, strict=True):
        name = _unique_name(top, used)
        used.add(name)
        proposals.append(Proposal(name, _typical(unique, matrix, members), len(members), top))
    return Clustering(proposals, unique, int((labels == -1).sum()), sampled, labels)


def _typical(texts: Sequence[str], vectors: np.ndarray, members: np.ndarray) -> list[str]:
    """The EXAMPLES messages of a cluster closest to its centre (ties: alphabetical, so the order is fixed)."""
    centre = vectors[members].mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    cosine = vectors[members] @ centre
    order = sorted(range(len(members)), key=lambda i: (-round(float(cosine[i]), 6), texts[members[i]]))
    return [texts[members[i]] for i in order[:EXAMPLES]]


def _tokens(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in ENGLISH_STOP_WORDS}


def _distinctive_words(texts: Sequence[str], groups: list[np.ndarray]) -> list[list[str]]:
    """Per cluster, its most distinctive words (class-based TF-IDF against every uncovered message)."""
    everywhere = Counter(w for text in texts for w in _tokens(text))
    total = len(texts)
    out = []
    for members in groups:
        inside = Counter(w for i in members for w in _tokens(texts[i]))
        score = {w: n / len(members) * math.log(1 + total / everywhere[w]) for w, n in inside.items()}
        ranked = sorted(score, key=lambda w: (-score[w], w))
        best = score[ranked[0]] if ranked else 0.0
        # Further words only while they still say much about the cluster (half the best word's score).
        chosen: list[str] = []
        for word in ranked:
            if len(chosen) == NAME_WORDS or score[word] < best / 2:
                break
            if not any(_same_stem(word, other) for other in chosen):  # "delivery" once, not "delivery_deliver"
                chosen.append(word)
        # In the order customers say them ("gift card", not "card gift"): by mean position in the messages.
        out.append(sorted(chosen, key=lambda w: (_mean_position(w, [texts[i] for i in members]), w)))
    return out


def _same_stem(a: str, b: str) -> bool:
    """Whether two words are forms of one (deliver, delivery, delivered): a crude stem, the first 5 letters."""
    return a[:5] == b[:5] if min(len(a), len(b)) >= 5 else a.startswith(b) or b.startswith(a)


def _mean_position(word: str, texts: Sequence[str]) -> float:
    places = [words.index(word) for text in texts if word in (words := _WORD.findall(text.lower()))]
    return sum(places) / len(places) if places else 0.0


def _unique_name(words: list[str], used: set[str]) -> str:
    """An intent name from `words` that no intent or earlier proposal has: a number is added when needed."""
    base = intent_name("_".join(words)) or "new_intent"
    name, n = base, 2
    while name.lower() in used:
        name, n = f"{base}_{n}", n + 1
    return name
