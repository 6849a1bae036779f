"""The review queue: which messages a person's label would help most, near-duplicates counted once.

Why a message is worth a look (its `reasons`):

    fallback       the bot answered with its fallback or asked to rephrase (source `fallback`)
    low confidence the intent's confidence is under bot.yaml `intents.confident`
    near-tie       the top two intents are within NEAR_TIE of each other
    handoff        the conversation was handed to a person, though the message did not ask for one
                   (its intent is not in `dialog.handoff_intents`)
    thumbs-down    the reply was rated down
    FAQ disagrees  the best FAQ hit (score >= FAQ_MIN_SCORE) belongs to another intent than the predicted one

Each message's uncertainty is

    u = (1 - confidence) + sum of BOOST[reason] over its reasons

so a confident, unremarkable message scores near 0 and a thumbs-down fallback above 2. Messages
are grouped by the bot's encoder: exact repeats first, then greedily, most uncertain first, each
ungrouped message leads a group of every ungrouped message within cosine SIMILAR of it (so the
grouping is deterministic). A group's expected help is

    score = mean(u over its messages) * count

(how uncertain such messages are, times how often they come), and the queue is sorted by it. A
group is shown by its leader (the most uncertain message), with the others as `similar`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agent.bot.schemas import OOS
from agent.review.candidates import Candidate

NEAR_TIE = 0.10  # top-2 confidence margin under which the classifier could not choose
FAQ_MIN_SCORE = 0.60  # a weaker FAQ hit is noise, not a second opinion
SIMILAR = 0.90  # cosine at which two messages are one question for the author
BOOST = {"fallback": 0.5, "near-tie": 0.3, "handoff": 0.5, "thumbs-down": 1.0, "FAQ disagrees": 0.3}
ORDER = ["fallback", "low confidence", "near-tie", "handoff", "thumbs-down", "FAQ disagrees"]  # as printed


@dataclass(frozen=True)
class Thresholds:
    """The bot's settings the reasons depend on."""

    confident: float = 0.45  # bot.yaml intents.confident
    handoff_intents: tuple[str, ...] = ("human_handoff",)  # bot.yaml dialog.handoff_intents


@dataclass(frozen=True)
class QueueRow:
    """One group of near-duplicate messages, shown by its most uncertain one."""

    text: str
    predicted: str | None
    confidence: float
    alternatives: tuple[tuple[str, float], ...]  # the runners-up of `predicted`, best first
    count: int  # messages in the group, repeats included
    reasons: tuple[str, ...]  # every reason any of its messages has, in ORDER
    score: float  # expected help: mean uncertainty * count
    similar: tuple[str, ...]  # the group's other distinct texts, most uncertain first


def reasons(candidate: Candidate, thresholds: Thresholds) -> list[str]:
    """Why `candidate` is worth a person's look (empty for a confident, unremarkable answer)."""
    found = []
    if candidate.source == "fallback":
        found.append("fallback")
    if candidate.confidence < thresholds.confident and candidate.predicted != OOS:
        found.append("low confidence")
    top = candidate.alternatives
    if len(top) >= 2 and top[0].confidence - top[1].confidence < NEAR_TIE:
        found.append("near-tie")
    if candidate.handoff and candidate.predicted not in thresholds.handoff_intents:
        found.append("handoff")
    if candidate.thumbs_down:
        found.append("thumbs-down")
    faq = candidate.faq_intent
    if (
        faq is not None
        and candidate.predicted is not None
        and faq != candidate.predicted
        and (candidate.faq_score or 0.0) >= FAQ_MIN_SCORE
    ):
        found.append("FAQ disagrees")
    return found


def uncertainty(candidate: Candidate, thresholds: Thresholds) -> float:
    """u = (1 - confidence) + the boosts of its reasons (module docstring)."""
    return _uncertainty(candidate, reasons(candidate, thresholds))


def _uncertainty(candidate: Candidate, why: Sequence[str]) -> float:
    return max(0.0, 1.0 - candidate.confidence) + sum(BOOST.get(r, 0.0) for r in why)


def key(text: str) -> str:
    """Exact repeats are one text: case and spacing do not count."""
    return " ".join(text.lower().split())


def distinct_texts(candidates: Sequence[Candidate]) -> list[str]:
    """One text per exact repeat (the first spelling), in first-seen order: what the encoder must embed."""
    seen: dict[str, str] = {}
    for c in candidates:
        seen.setdefault(key(c.text), c.text)
    return list(seen.values())


@dataclass(frozen=True)
class _Scored:
    u: float
    reasons: tuple[str, ...]
    candidate: Candidate


def build_queue(
    candidates: Sequence[Candidate], vectors: np.ndarray, thresholds: Thresholds, limit: int | None = None
) -> list[QueueRow]:
    """The ranked queue; `vectors` are the unit embeddings of `distinct_texts(candidates)`, row for row."""
    texts = distinct_texts(candidates)
    if len(texts) != len(vectors):
        raise ValueError(f"{len(vectors)} vectors for {len(texts)} distinct texts")
    index = {key(t): i for i, t in enumerate(texts)}
    members: list[list[_Scored]] = [[] for _ in texts]  # per distinct text
    for c in candidates:
        why = tuple(reasons(c, thresholds))
        members[index[key(c.text)]].append(_Scored(_uncertainty(c, why), why, c))
    # The most uncertain reading of each text stands for it; ties broken by the text so the order is fixed.
    peak = np.array([max(m.u for m in group) for group in members])
    order = sorted(range(len(texts)), key=lambda i: (-peak[i], key(texts[i])))
    free = np.ones(len(texts), dtype=bool)
    rows = []
    for leader in order:
        if not free[leader]:
            continue
        open_ids = np.flatnonzero(free)
        close = open_ids[vectors[open_ids] @ vectors[leader] >= SIMILAR]
        close = np.union1d(close, [leader]).astype(int)
        free[close] = False
        group = sorted(close.tolist(), key=lambda i: (i != leader, -peak[i], key(texts[i])))
        rows.append(_row(texts, members, group))
    rows.sort(key=lambda r: (-r.score, key(r.text)))
    return rows if limit is None else rows[:limit]


def _row(texts: list[str], members: list[list[_Scored]], group: list[int]) -> QueueRow:
    scored = [m for i in group for m in members[i]]
    lead = max(members[group[0]], key=lambda m: m.u).candidate
    seen = {r for m in scored for r in m.reasons}
    mean = sum(m.u for m in scored) / len(scored)
    return QueueRow(
        text=texts[group[0]],
        predicted=lead.predicted,
        confidence=lead.confidence,
        alternatives=tuple((s.name, s.confidence) for s in lead.alternatives if s.name != lead.predicted)[:3],
        count=len(scored),
        reasons=tuple(r for r in ORDER if r in seen),
        score=round(mean * len(scored), 4),
        similar=tuple(texts[i] for i in group[1:]),
    )
