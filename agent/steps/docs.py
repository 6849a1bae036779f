"""Step: the help-centre passages closest to each message, and answers quoted from them.

The pages of knowledge/docs/ are split into passages (agent/bot/pages.py); `train`
encodes each passage (with its page title and heading path) and each of its
sentences, and keeps them in FAISS inner-product indexes (the vectors are unit
length, so scores are cosine similarities). A passage's closeness in meaning is the
mean of its own cosine and its best sentence's (`DocHit.score`); passages are ranked
by that plus `docs.lexical_weight` times their BM25 word match (agent/steps/bm25.py),
so a rare word of the question ("anydesk", "mandate") finds the passage that uses it.
Every turn gets its best `top_k` passages (`turn.doc_hits`, shown in the trace).

When no FAQ entry or confident intent answers, the policy asks `answer`: if the best
passage is close enough in meaning (`strength`, at least `docs.answer_threshold`), the
reply is that passage quoted as written (whole when it has at most
`docs.whole_passage_words` words, else its sentences closest to the message, in the
page's order), with the page named as the source. A confident intent yields to a page
only when the passage is closer to the message, by `docs.over_intent_margin`, than the
nearest of that intent's own examples (both cosines in the same space; the examples
are encoded here too): the bot's intents cover a domain broadly, and a question only a
page answers is often read, confidently, as its nearest intent. Quoting means every
value in the reply is one the page states; the grounding guard's value check confirms
it all the same (`unsupported`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from agent.bot.pages import Passage
from agent.config import BotConfig, DocsConfig
from agent.exceptions import BuildError
from agent.steps.bm25 import BM25
from agent.steps.decoder.guard import claims
from agent.types import DocHit, Embedder, Turn

META_FILE = "passages.json"
VECTORS_FILE = "vectors.npz"
CANDIDATES = 64  # passages scored in full for each message, found by meaning or by words


@dataclass(frozen=True)
class DocAnswer:
    text: str  # the quoted sentences and the source line
    quoted: str  # the sentences alone
    hit: DocHit
    unsupported: list[str]  # values of `quoted` the passage does not state (none, by construction)


class DocsIndex:
    """Passages of the help centre, searchable by meaning."""

    name = "docs"
    artifact = "docs"

    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        sentences: list[tuple[int, str]],
        sentence_vectors: np.ndarray,
        config: DocsConfig,
        examples: np.ndarray | None = None,
        example_labels: Sequence[str] = (),
    ) -> None:
        self.passages = passages
        self.vectors = vectors.astype(np.float32)
        self.sentences = sentences  # (passage index, sentence as written)
        self.sentence_vectors = sentence_vectors.astype(np.float32)
        self.config = config
        self.index = faiss.IndexFlatIP(self.vectors.shape[1]) if len(passages) else None
        self.sentence_index = faiss.IndexFlatIP(self.sentence_vectors.shape[1])
        if self.index is not None:
            self.index.add(self.vectors)
            self.sentence_index.add(self.sentence_vectors)
        self.lexical = BM25([f"{p.source}: {p.text}" for p in passages])
        self._by_passage: dict[int, list[int]] = {}
        for row, (owner, _) in enumerate(sentences):
            self._by_passage.setdefault(owner, []).append(row)
        self._owner = {(p.page, p.text): i for i, p in enumerate(passages)}
        self.examples = (examples if examples is not None else np.zeros((0, self.vectors.shape[1]))).astype(np.float32)
        self.example_labels = list(example_labels)  # the intent of each row of `examples`
        grouped: dict[str, list[int]] = {}
        for row, label in enumerate(self.example_labels):
            grouped.setdefault(label, []).append(row)
        self._example_rows = {label: np.array(rows, dtype=np.int64) for label, rows in grouped.items()}

    @classmethod
    def build(
        cls,
        passages: list[Passage],
        encode: Callable[[Sequence[str]], np.ndarray],
        config: DocsConfig,
        examples: Sequence[tuple[str, str]] = (),
    ) -> DocsIndex:
        """The index of `passages`, with `examples` ((text, intent) of the in-scope intents) to weigh against."""
        sentences = [(i, s) for i, p in enumerate(passages) for s in p.sentences()]
        if not passages:
            empty = np.zeros((0, 1), dtype=np.float32)
            return cls([], empty, [], empty, config)
        vectors = encode([f"{p.source}: {p.text}" for p in passages])
        sentence_vectors = encode([s for _, s in sentences])
        bank = encode([text for text, _ in examples]) if examples else None
        return cls(passages, vectors, sentences, sentence_vectors, config, bank, [label for _, label in examples])

    def __call__(self, turns: Sequence[Turn]) -> None:
        if self.index is None or not self.config.enabled:
            return
        queries = np.stack([t.embedding for t in turns]).astype(np.float32)
        # Candidates: the passages closest as a whole, the owners of the closest sentences (both searched in
        # FAISS) and the best word matches (BM25 scores every passage from a sparse matrix: cheap); each
        # candidate is then scored in full.
        reach = min(CANDIDATES, len(self.passages))
        _, by_passage = self.index.search(queries, reach)
        by_sentence = (
            self.sentence_index.search(queries, min(CANDIDATES, len(self.sentences)))[1]
            if self.sentences
            else np.zeros((len(turns), 0), dtype=np.int64)
        )
        for turn, query, near, sentence_rows in zip(turns, queries, by_passage, by_sentence, strict=True):
            lexical = self.lexical.scores(turn.text)
            words = np.argsort(-lexical)[:reach]
            candidates = {int(i) for i in near if i >= 0}  # -1: no more hits
            candidates |= {self.sentences[int(j)][0] for j in sentence_rows if j >= 0}
            candidates |= {int(i) for i in words if lexical[i] > 0}
            top = float(lexical.max())
            scored = []
            for i in candidates:
                dense = self._dense(i, query)
                scored.append((dense + self.config.lexical_weight * (lexical[i] / top if top > 0 else 0.0), dense, i))
            scored.sort(key=lambda item: (-item[0], item[2]))
            turn.doc_hits = [
                DocHit(page=p.page, source=p.source, text=p.text, score=round(dense, 4))
                for _, dense, p in ((r, d, self.passages[i]) for r, d, i in scored[: self.config.top_k])
            ]

    def _dense(self, passage: int, query: np.ndarray) -> float:
        """How close a passage is in meaning: the mean cosine of the passage as a whole and of its best
        sentence (a specific question matches one sentence closely; a passage's vector blurs it)."""
        rows = self._by_passage.get(passage, [])
        best_sentence = float((self.sentence_vectors[rows] @ query).max()) if rows else 0.0
        return (float(self.vectors[passage] @ query) + best_sentence) / 2

    def strength(self, hit: DocHit) -> float:
        """How well the pages answer the message: the best passage's closeness in meaning (`DocHit.score`)."""
        return hit.score

    def typicality(self, intent: str, embedding: np.ndarray) -> float | None:
        """The cosine of the message and the nearest example of `intent` (None without its examples)."""
        rows = self._example_rows.get(intent)
        if rows is None or not len(rows):
            return None
        return float((self.examples[rows] @ embedding.astype(np.float32)).max())

    def answer(self, turn: Turn, confident_intent: str | None = None) -> DocAnswer | None:
        """A reply quoted from the best passage, when it is close enough to the message; else None.

        With `confident_intent` (an intent that would answer with its own reply), the passage must
        also be closer to the message than that intent's nearest example, by `over_intent_margin`.
        """
        if not turn.doc_hits or turn.embedding is None:
            return None
        hit = turn.doc_hits[0]
        strength = self.strength(hit)
        if strength < self.config.answer_threshold:
            return None
        if confident_intent is not None:
            typical = self.typicality(confident_intent, turn.embedding)
            if typical is None or strength < typical + self.config.over_intent_margin:
                return None
        owner = self._owner[(hit.page, hit.text)]
        rows = self._by_passage.get(owner, [])
        if not rows:
            return None
        if len(hit.text.split()) <= self.config.whole_passage_words:
            best = list(range(len(rows)))  # a short passage is one answer: cut, it loses the sentence that matters
        else:
            similarity = self.sentence_vectors[rows] @ turn.embedding.astype(np.float32)
            best = sorted(np.argsort(-similarity)[: self.config.sentences].tolist())
        chosen = [self.sentences[rows[i]][1] for i in best]
        # A list item or heading-less line has no full stop: keep such pieces on lines of their own.
        quoted = "".join(
            (("\n" if not chosen[k - 1].rstrip().endswith((".", "!", "?", ":")) else " ") if k else "") + text
            for k, text in enumerate(chosen)
        )
        unsupported = sorted(claims(quoted) - claims(hit.text))
        return DocAnswer(f"{quoted}\n\n(From our help centre: {hit.source})", quoted, hit, unsupported)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / VECTORS_FILE, passages=self.vectors, sentences=self.sentence_vectors, examples=self.examples)
        meta = {
            "example_labels": self.example_labels,
            "passages": [
                {"page": p.page, "title": p.title, "headings": list(p.headings), "text": p.text} for p in self.passages
            ],
            "sentences": self.sentences,
        }
        (folder / META_FILE).write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path, config: BotConfig, encoder: Embedder) -> DocsIndex:
        if not (folder / META_FILE).is_file():  # a bot without pages has nothing here
            empty = np.zeros((0, 1), dtype=np.float32)
            return cls([], empty, [], empty, config.docs)
        try:
            meta = json.loads((folder / META_FILE).read_text())
            with np.load(folder / VECTORS_FILE) as data:
                vectors, sentence_vectors, examples = data["passages"], data["sentences"], data["examples"]
        except (OSError, ValueError, KeyError) as exc:
            raise BuildError(
                f"The help-centre index in {folder} is unreadable ({exc.__class__.__name__}); "
                "run `python -m agent train` to rebuild it."
            ) from None
        passages = [Passage(p["page"], p["title"], tuple(p["headings"]), p["text"]) for p in meta["passages"]]
        sentences = [(int(i), str(s)) for i, s in meta["sentences"]]
        labels = [str(label) for label in meta["example_labels"]]
        return cls(passages, vectors, sentences, sentence_vectors, config.docs, examples, labels)
