"""Other ways of reading a follow-up in its conversation, measured beside the shipped context step.

Every approach is fitted on the bot's own example conversations (`dialogs/conversations.yaml`)
and scored by 5-fold cross-validation over them (fold k holds conversations k, k+5, ...); then
fitted on all of them and scored once on a measuring set (`--measure`, the replay JSONL format;
never fitted on). Figures are follow-up accuracy (first turns are read alone by all of them),
played turn by turn: each turn's topic is what the approach itself read the turn before.

    python -m bench.context_approaches [--bot .] [--measure ../shared/datasets/meridian_conversations/dev.jsonl]

    ceiling     not an approach: the share of follow-ups whose gold intent is the previous turn's gold
                intent or the message's own best reading (what a perfect continue-or-switch gate could reach)
    alone       each message by itself
    shipped     the context step's formula and thresholds (dialog.context), prior counted on the training folds
    loglinear   the same readings, weights learnt by a conditional logit (no thresholds)
    mixture     a gated mixture of experts (alone; with context; same topic; what the message asks x the
                topic in hand; follow-on prior), the gate a softmax over message features
    pair_head   a softmax head on frozen embeddings of (message, previous message, both), trained on the
                conversations plus (previous, message) pairs synthesised from the intents and the graph
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
from dataclasses import dataclass

import numpy as np
import torch

from agent import load_trained
from agent.bot.schemas import OOS
from agent.steps.context import _swap_entity
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph
from agent.steps.intents import IntentClassifier
from agent.storage.conversation_log import read_jsonl
from bench.common import machine

FOLDS = 5
# Domain-neutral continuations (written for this benchmark) placed after an example of any intent.
CONTINUATIONS = [
    "still nothing",
    "it's still not working",
    "what should I do now?",
    "I already tried that",
    "tried again, same thing",
    "it's been a few days",
    "yes",
    "no",
    "not yet",
    "it happened yesterday",
    "about a week ago",
    "is that normal?",
    "why is that?",
    "can you check?",
    "nothing happened",
    "it didn't help",
    "still the same",
    "any other option?",
    "where do I find that?",
    "twice",
    "3 times",
    "about 50 euros",
    "on the 12th",
    "I think so",
    "not sure",
    "I don't remember",
]
CONJUNCTION = re.compile(r"^(and|but|what about|how about|also|so|or|ok|okay|then)\b", re.I)


@dataclass
class Reading:
    """One customer turn: its gold intent and the classifier's readings of it."""

    text: str
    gold: int
    alone: np.ndarray
    context: np.ndarray | None = None  # mean of "after previous" and "entity swapped"
    pair: np.ndarray | None = None  # embeddings of (message, previous, both), for the pair head


def log(x: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(x, 1e-9))


def normalised(x: np.ndarray) -> np.ndarray:
    return x / max(float(x.sum()), 1e-12)


class Bench:
    def __init__(self, bot: str) -> None:
        self.agent = load_trained(bot, store_url="sqlite:///:memory:", decoder=False)
        self.classifier = self.agent.step(IntentClassifier)
        self.encoder = self.agent.step(Encoder)
        self.graph = self.agent.step(KnowledgeGraph)
        self.labels = self.classifier.labels
        self.index = {name: i for i, name in enumerate(self.labels)}
        rows = self.classifier.weight / np.linalg.norm(self.classifier.weight, axis=1, keepdims=True)
        self.cosine = rows @ rows.T

    def read(self, conversations: list[list[tuple[str, str]]]) -> list[list[Reading]]:
        out = []
        for conv in conversations:
            readings = []
            for i, (text, gold) in enumerate(conv):
                texts = [text]
                if i:
                    previous = conv[i - 1][0]
                    swapped = _swap_entity(previous, self.graph.link(previous), self.graph.link(text))
                    texts += [f"{previous} {text}", swapped or f"{previous} {text}", previous]
                embeddings = self.encoder.encode(texts)
                p = self.classifier.probabilities(embeddings[:3], texts[:3])
                reading = Reading(text, self.index[gold], p[0])
                if i:
                    reading.context = (p[1] + p[2]) / 2
                    reading.pair = np.concatenate([embeddings[0], embeddings[3], embeddings[1]])
                readings.append(reading)
            out.append(readings)
        return out

    def prior(self, train: list[list[Reading]], temperature: float = 0.1, strength: float = 5.0) -> np.ndarray:
        similarity = np.exp(self.cosine / temperature - (self.cosine / temperature).max(1, keepdims=True))
        similarity /= similarity.sum(1, keepdims=True)
        counts = np.zeros_like(similarity)
        for conv in train:
            for before, after in itertools.pairwise(conv):
                counts[before.gold, after.gold] += 1
        return (strength * similarity + counts) / (strength + counts.sum(1, keepdims=True))

    def synthesised_pairs(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(previous, message) -> intent pairs from the bot's own intents and graph."""
        rng = random.Random(seed)
        examples = {i.name: i.examples for i in self.agent.bot.intents.intents if i.name in self.index}
        intents = [name for name in examples if name != OOS]
        pairs: list[tuple[str, str, str]] = []
        for name in intents:  # a self-contained question of another intent: a new topic
            for text in rng.sample(examples[name], min(15, len(examples[name]))):
                other = rng.choice([n for n in intents if n != name])
                pairs.append((rng.choice(examples[other]), text, name))
        for name in intents:  # a vague continuation: the same topic
            for text in rng.sample(CONTINUATIONS, 12):
                pairs.append((rng.choice(examples[name]), text, name))
        for text in examples.get(OOS, []):  # out of scope mid-conversation
            pairs.append((rng.choice(examples[rng.choice(intents)]), text, OOS))
        by_type: dict[str, list[str]] = {}
        for _, data in self.graph.graph.nodes(data=True):
            by_type.setdefault(data["type"], []).append(data["name"])
        for name in intents:  # "what about <another entity of the same type>?": the same question about it
            for text in examples[name]:
                mention = next(iter(self.graph.link(text)), None)
                if mention is None:
                    continue
                others = [n for n in by_type.get(mention.type, []) if n != mention.surface]
                if others:
                    pairs.append((text, f"what about {rng.choice(others)}?", name))
        parts = ([p[1] for p in pairs], [p[0] for p in pairs], [f"{p[0]} {p[1]}" for p in pairs])
        embeddings = [self.encoder.encode(part) for part in parts]
        return np.concatenate(embeddings, 1), np.array([self.index[p[2]] for p in pairs])


# --- the approaches: each maps (reading, topic distribution q) to a distribution ---------------------


def play(conversations: list[list[Reading]], read) -> tuple[int, int]:
    """Follow-ups read right, follow-ups; each turn's topic is the approach's own previous reading."""
    right = total = 0
    for conv in conversations:
        q = conv[0].alone
        for reading in conv[1:]:
            q = read(reading, q)
            right += int(np.argmax(q)) == reading.gold
            total += 1
    return right, total


def shipped(bench: Bench, prior: np.ndarray):
    config = bench.agent.config.dialog.context
    oos = bench.index[OOS]

    def read(r: Reading, q: np.ndarray) -> np.ndarray:
        best = int(np.argmax(r.alone))
        clear = r.alone[oos] >= config.keep_out_of_scope if best == oos else r.alone[best] >= config.switch_confidence
        if clear:
            return r.alone
        score = config.alone_weight * log(r.alone) + config.context_weight * log(r.context)
        score += config.prior_weight * log(prior[int(np.argmax(q))])
        return normalised(np.exp(score - score.max()))

    return read


def loglinear_features(r: Reading, q: np.ndarray, prior: np.ndarray) -> np.ndarray:
    same = np.zeros_like(q)
    same[int(np.argmax(q))] = 1.0
    vague = -(r.alone * log(r.alone)).sum() / np.log(len(q))
    return np.stack([log(r.alone), log(r.context), log(q @ prior), log(q), same, same * vague], 1)


def mixture_experts(bench: Bench, r: Reading, q: np.ndarray, prior: np.ndarray) -> np.ndarray:
    same = np.full_like(q, 1e-4)
    same[int(np.argmax(q))] = 1.0
    similarity = np.exp(bench.cosine / 0.1 - (bench.cosine / 0.1).max(1, keepdims=True))
    facet = r.alone * (q @ (similarity / similarity.sum(1, keepdims=True)))
    return np.stack([r.alone, r.context, normalised(same), normalised(facet), normalised(q @ prior)])


def gate_features(bench: Bench, r: Reading, q: np.ndarray) -> np.ndarray:
    words = len(r.text.split())
    topic = int(np.argmax(q))
    vague = -(r.alone * log(r.alone)).sum() / np.log(len(q))
    return np.array(
        [1.0, r.alone.max(), vague, r.alone[bench.index[OOS]], words <= 3, words <= 6,
         bool(CONJUNCTION.match(r.text)), r.alone[topic], int(np.argmax(r.alone)) == topic,
         r.context.max(), q.max(), "?" in r.text, np.log(words)], dtype=np.float64
    )  # fmt: skip


def fit_sequential(train, features, likelihood, width: int, l2: float, rounds: int = 2) -> np.ndarray:
    """Weights maximising the gold intent's likelihood, the topics re-read with each round's weights."""
    weights = np.zeros(width)
    for _ in range(rounds):
        weights = _fit_round(train, features, likelihood, weights, l2)
    return weights


def _fit_round(train, features, likelihood, weights: np.ndarray, l2: float) -> np.ndarray:
    """One round: the topics read with `weights`, then new weights fitted on those turns."""
    rows = []
    for conv in train:
        q = conv[0].alone
        for r in conv[1:]:
            rows.append((features(r, q), r.gold))
            q = likelihood(torch.tensor(weights), torch.tensor(features(r, q))[None]).numpy()[0]
    x = torch.tensor(np.stack([f for f, _ in rows]))
    y = torch.tensor([g for _, g in rows])
    w = torch.tensor(weights, requires_grad=True)
    optimiser = torch.optim.LBFGS([w], max_iter=200)

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        p = likelihood(w, x)
        loss = -torch.log(p[torch.arange(len(y)), y] + 1e-9).mean() + l2 * (w**2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    return w.detach().numpy()


def loglinear(bench: Bench, train, prior: np.ndarray):
    def features(r, q):
        return loglinear_features(r, q, prior)

    def likelihood(w, x):  # x: (n, classes, features)
        return torch.softmax(x @ w, -1)

    w = fit_sequential(train, features, likelihood, 6, l2=0.1)
    return lambda r, q: likelihood(torch.tensor(w), torch.tensor(features(r, q))[None]).numpy()[0]


def mixture(bench: Bench, train, prior: np.ndarray):
    experts, gates = 5, 13

    def features(r, q):  # (experts + 1, classes): the experts, then the gate features padded
        block = np.zeros((experts + 1, len(q)))
        block[:experts] = mixture_experts(bench, r, q, prior)
        block[experts, :gates] = gate_features(bench, r, q)
        return block

    def likelihood(w, x):
        gate = torch.softmax(x[:, experts, :gates] @ w.reshape(gates, experts), -1)
        return (gate[:, :, None] * x[:, :experts]).sum(1)

    w = fit_sequential(train, features, likelihood, gates * experts, l2=0.001)
    return lambda r, q: likelihood(torch.tensor(w), torch.tensor(features(r, q))[None]).numpy()[0]


def pair_head(bench: Bench, train, synthesised: tuple[np.ndarray, np.ndarray], weight: float = 5.0):
    x_real = np.stack([r.pair for conv in train for r in conv[1:]])
    y_real = np.array([r.gold for conv in train for r in conv[1:]])
    x = torch.tensor(np.concatenate([x_real, synthesised[0]]), dtype=torch.float32)
    y = torch.tensor(np.concatenate([y_real, synthesised[1]]))
    w = torch.tensor([weight] * len(y_real) + [1.0] * len(synthesised[1]))
    torch.manual_seed(0)
    head = torch.nn.Linear(x.shape[1], len(bench.labels))
    optimiser = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-3)
    for _ in range(60):
        for batch in torch.randperm(len(y)).split(128):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(head(x[batch]), y[batch], reduction="none")
            ((loss * w[batch]).sum() / w[batch].sum()).backward()
            optimiser.step()

    def read(r: Reading, q: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(head(torch.tensor(r.pair[None], dtype=torch.float32)), -1).numpy()[0]

    return read


def ceiling(conversations: list[list[Reading]]) -> float:
    hits = [r.gold in (p.gold, int(np.argmax(r.alone))) for conv in conversations for p, r in itertools.pairwise(conv)]
    return sum(hits) / len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--measure", help="labelled conversations (replay JSONL) scored once, never fitted on")
    args = parser.parse_args()
    bench = Bench(args.bot)
    examples = bench.agent.bot.conversations.conversations
    own = [[(t.text, str(t.intent)) for t in c.turns if t.role == "customer"] for c in examples]
    train = bench.read(own)
    measure = None
    if args.measure:
        logged = read_jsonl(args.measure).conversations
        measure = bench.read([[(t.text, str(t.gold_intent)) for t in c.customer_turns()] for c in logged])
    synthesised = bench.synthesised_pairs()
    approaches = {
        "alone": lambda b, tr, pr: lambda r, q: r.alone,
        "shipped": lambda b, tr, pr: shipped(b, pr),
        "loglinear": loglinear,
        "mixture": mixture,
        "pair_head": lambda b, tr, pr: pair_head(b, tr, synthesised),
    }
    results: dict[str, dict[str, float | None]] = {
        "ceiling": {"cv": round(ceiling(train), 3), "measure": round(ceiling(measure), 3) if measure else None}
    }
    for name, make in approaches.items():
        right = total = 0
        for k in range(FOLDS):
            fit_on = [c for i, c in enumerate(train) if i % FOLDS != k]
            hit, n = play(train[k::FOLDS], make(bench, fit_on, bench.prior(fit_on)))
            right, total = right + hit, total + n
        figure = None
        if measure:
            hit, n = play(measure, make(bench, train, bench.prior(train)))
            figure = round(hit / n, 3)
        results[name] = {"cv": round(right / total, 3), "measure": figure}
    bench.agent.close()
    report = {"benchmark": "context_approaches", "follow_up_accuracy": results, "measure": args.measure}
    print(json.dumps({**report, "synthesised_pairs": len(synthesised[1]), **machine()}, indent=1))


if __name__ == "__main__":
    main()
