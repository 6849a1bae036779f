"""Step: read each message in the light of its conversation, not alone.

Customers ask, then follow up: "is there a fee if I top up by card?" then "what
about by bank transfer?"; "my card payment was declined" then "i have enough
money though". Alone, a follow-up is vague or reads as another intent; inside
the conversation it is clear. When a conversation has an active topic (the
intent of the last in-scope turn) and a message is not clearly about something
new, this step reads it three ways:

    alone            the classifier's probabilities for the message itself
    after previous   for the customer's previous message and this one, as one text
    entity swapped   for the previous message with this one's entity put in its place
                     ("top up by card?" + "what about bank transfer?" -> "top up by bank transfer?")

and combines them log-linearly with how likely each intent is to follow the
active one (`FollowOnPrior`): log p(alone) + context_weight * log p(with context)
+ prior_weight * log prior, so a message that is clear alone keeps its reading
and a vague one is decided by its context. The result replaces the message's intent when it differs
or when the message alone was out of scope or unsure; the trace says how
(`ContextReading`). A message read alone as an in-scope intent with confidence
`switch_confidence`, or as out of scope with probability `keep_out_of_scope`,
stays as it is: a new question, a closing or a request for a flight win over
the context. Without an active topic nothing is done, so first messages cost
nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from agent.bot.schemas import OOS, ConversationsFile
from agent.config import ContextConfig
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph
from agent.steps.intents import IntentClassifier
from agent.types import ContextReading, EntityMention, IntentPrediction, IntentScore, Turn

TOP_K = 3
NEIGHBOURS = 5  # a new intent among the active one's likeliest successors is a follow-up of it


class FollowOnPrior:
    """P(next intent | active intent): the intents' similarity, sharpened by the bot's example conversations.

    The similarity part needs no data beyond the trained classifier (the cosine of two
    intents' head rows: neighbouring intents, such as two fees of one product, are
    close), so a bot its author has just written has a prior too. Transitions counted
    in `dialogs/conversations.yaml` add to it, each intent's row weighted by how often
    it was followed (`strength` pseudo-counts of similarity against them). An intent seen
    after at least `free_after` different intents there (thanks, goodbye, asking for a
    person) is not tied to a topic: it may follow any intent at least at its overall rate
    among follow-ups, so "thanks, that's all" is not pulled back to the topic.
    """

    def __init__(self, labels: Sequence[str], matrix: np.ndarray, topic_free: Sequence[str] = ()) -> None:
        self.labels = list(labels)
        self.index = {name: i for i, name in enumerate(self.labels)}
        self.matrix = matrix  # (classes, classes), each row sums to 1
        self.topic_free = list(topic_free)  # intents that may follow any other (see `build`)

    @classmethod
    def build(
        cls,
        classifier: IntentClassifier,
        conversations: ConversationsFile,
        temperature: float,
        strength: float,
        free_after: int = 8,
    ) -> FollowOnPrior:
        labels = classifier.labels
        rows = classifier.weight / np.maximum(np.linalg.norm(classifier.weight, axis=1, keepdims=True), 1e-9)
        similarity = rows @ rows.T / temperature
        similarity = np.exp(similarity - similarity.max(axis=1, keepdims=True))
        similarity /= similarity.sum(axis=1, keepdims=True)
        counts = np.zeros_like(similarity)
        index = {name: i for i, name in enumerate(labels)}
        for conversation in conversations.conversations:
            said = [t.intent for t in conversation.turns if t.role == "customer" and t.intent in index]
            for before, after in pairwise(said):
                counts[index[before], index[after]] += 1
        totals = counts.sum(axis=1, keepdims=True)
        matrix = (strength * similarity + counts) / np.maximum(strength + totals, 1e-9)
        followers = counts.sum(axis=0)
        free = ((counts > 0).sum(axis=0) >= free_after) & (np.array(labels) != OOS)
        if free.any():
            rate = followers / followers.sum()
            matrix[:, free] = np.maximum(matrix[:, free], rate[free])
            matrix /= matrix.sum(axis=1, keepdims=True)
        return cls(labels, matrix.astype(np.float32), [name for name, f in zip(labels, free, strict=True) if f])

    def row(self, active: str) -> np.ndarray | None:
        i = self.index.get(active)
        return None if i is None else self.matrix[i]


@dataclass
class _Work:
    turn: Turn
    active: str
    alone: np.ndarray  # the message's own probabilities
    texts: list[tuple[str, str]]  # (reading, text) of the other readings


class ContextReader:
    """Pipeline step: the intent of each message given its conversation's active topic."""

    name = "context"

    def __init__(
        self,
        encoder: Encoder,
        classifier: IntentClassifier,
        graph: KnowledgeGraph,
        prior: FollowOnPrior,
        config: ContextConfig,
    ) -> None:
        self.encoder = encoder
        self.classifier = classifier
        self.graph = graph
        self.prior = prior
        self.config = config

    def __call__(self, turns: Sequence[Turn]) -> None:
        if not self.config.enabled:
            return
        active = [(turn, topic) for turn in turns if (topic := self._active(turn)) is not None]
        candidates = [(turn, topic) for turn, topic in active if not self._clear(turn)]
        if not candidates:
            return
        # The intent step's probabilities for each message alone, recomputed only for a turn it did not classify.
        work = [
            _Work(
                turn,
                topic,
                turn.intent_probabilities
                if turn.intent_probabilities is not None
                else self.classifier.probabilities(turn.embedding[None, :], [turn.text])[0],
                self._readings(turn),
            )
            for turn, topic in candidates
        ]
        others = [text for item in work for _, text in item.texts]
        probabilities = np.zeros((0, len(self.classifier.labels)), dtype=np.float32)
        if others:
            probabilities = self.classifier.probabilities(self.encoder.encode(others), others)
        start = 0
        for item in work:
            readings = {"alone": item.alone}
            for (reading, _), row in zip(item.texts, probabilities[start : start + len(item.texts)], strict=True):
                readings[reading] = row
            start += len(item.texts)
            self._decide(item, readings)

    # --- which turns, which readings -------------------------------------------------

    @staticmethod
    def _active(turn: Turn) -> str | None:
        state = turn.state
        return None if state.handed_off or state.last_intent is None else state.last_intent

    def _clear(self, turn: Turn) -> bool:
        """A message that reads clearly alone: a confident in-scope intent, or confidently out of scope."""
        intent = turn.intent
        if intent is None:
            return True
        if intent.out_of_scope:
            p_oos = next((s.confidence for s in intent.top if s.name == OOS), 0.0)
            return p_oos >= self.config.keep_out_of_scope
        return intent.confidence >= self.config.switch_confidence

    def _readings(self, turn: Turn) -> list[tuple[str, str]]:
        previous = next((text for role, text in reversed(turn.state.history) if role == "customer"), None)
        if previous is None:
            return []
        readings = [("after previous", f"{previous} {turn.text}")]
        swapped = _swap_entity(previous, self.graph.link(previous), turn.graph.entities)
        if swapped is not None:
            readings.append(("entity swapped", swapped))
        return readings

    # --- weighing them ---------------------------------------------------------------

    def _decide(self, item: _Work, readings: dict[str, np.ndarray]) -> None:
        turn, labels, config = item.turn, self.classifier.labels, self.config
        # Log-linear: a message that is clear alone keeps its reading (its probabilities are peaked);
        # a vague one (flat alone) is decided by the readings with its context and the follow-on prior.
        score = config.alone_weight * np.log(np.maximum(readings["alone"], 1e-9))
        others = [row for name, row in readings.items() if name != "alone"]
        if others and config.context_weight > 0:
            score += config.context_weight * np.log(np.maximum(np.mean(np.stack(others), axis=0), 1e-9))
        prior = self.prior.row(item.active)
        if prior is not None and config.prior_weight > 0:
            score += config.prior_weight * np.log(np.maximum(prior, 1e-9))
        mixed = np.exp(score - score.max())
        mixed = mixed / mixed.sum()
        order = np.argsort(-mixed)
        best = labels[int(order[0])]
        confidence = float(mixed[order[0]])
        alone = turn.intent.name if turn.intent is not None else OOS
        top = [IntentScore(name=labels[i], confidence=round(float(mixed[i]), 4)) for i in order[:TOP_K]]
        if best == OOS:
            kind = "out of scope"
        elif best == item.active:
            kind = "same topic"
        elif best in self.prior.topic_free:
            kind = "leaves the topic"  # thanks, goodbye, a person: they follow any topic
        elif prior is not None and self.prior.index[best] in np.argsort(-prior)[:NEIGHBOURS]:
            kind = "follow-up"  # one of the intents likeliest to follow the active one
        else:
            kind = "new topic"
        note = self._note(kind, item.active, best, turn)
        turn.context = ContextReading(
            active=item.active,
            kind=kind,
            intent=best,
            alone=alone,
            confidence=round(confidence, 4),
            readings={name: labels[int(np.argmax(row))] for name, row in readings.items()},
            note=note,
        )
        turn.intent = IntentPrediction(name=best, confidence=confidence, out_of_scope=best == OOS, top=top)

    @staticmethod
    def _note(kind: str, active: str, best: str, turn: Turn) -> str:
        if kind == "out of scope":
            return f"out of scope inside {active}"
        if kind == "leaves the topic":
            return f"leaves the topic of {active}: {best} follows any topic in the example conversations"
        pending = turn.state.pending
        if pending is not None and pending.answer(turn.graph.entities) is not None:
            return f"answer to the bot's question about the {pending.slot} ({pending.intent})"
        detail = "same question" if best == active else "another aspect"
        named = ", ".join(f"{m.type} = {m.name}" for m in turn.graph.entities)
        if named:  # the entities this message names fill the template in place of the earlier ones
            detail = f"{detail}, {named}"
        return f"{kind} of {active}: {detail}"


def _swap_entity(previous: str, before: list[EntityMention], now: list[EntityMention]) -> str | None:
    """The previous message with an entity this one names in place of the previous one of the same type."""
    for mention in now:
        old = next((m for m in before if m.type == mention.type and m.id != mention.id), None)
        if old is not None and old.surface:
            at = previous.lower().find(old.surface.lower())
            if at >= 0:
                return previous[:at] + mention.surface + previous[at + len(old.surface) :]
    return None
