"""Step 2: FAQ retrieval with FAISS over every phrasing of every entry, and over question + answer.

The SQL store holds the entries (source of truth); this index holds one
vector per phrasing (question and alternatives) plus one "document" vector
per entry (its question followed by its answer). Entries are ranked by
`(1 - answer_weight) * best phrasing cosine + answer_weight * document cosine`:
the document vector brings in the answer's words, which separates look-alike
questions ("link to a time in a Vimeo video" vs "... in a YouTube video").
A hit's `score` stays the best phrasing's cosine, the figure that
`answer_threshold` is set against. Entries are fingerprinted, so `sync`
re-encodes only what changed and a run-time add, edit or delete never needs a
rebuild.

Only text with a letter or a digit is matched (agent/bot/text.py `has_words`): the
encoder reads an emoji, a run of them and an unassigned character all as "[UNK]",
so a phrasing of that kind scored 1.0 against every emoji-only message. Such a
phrasing is not indexed (faq.yaml refuses it; an entry added at run time keeps its
other phrasings), and a message without any letter or digit gets no FAQ hits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from agent.bot.schemas import FaqEntry
from agent.bot.text import has_words
from agent.config import BotConfig, FaqConfig
from agent.exceptions import BuildError
from agent.types import Embedder, FaqHit, Turn

EncodeFn = Callable[[Sequence[str]], np.ndarray]


@dataclass
class _ExactView:
    """Every entry's vectors as dense matrices, entries in one order, for exact fused scoring."""

    ids: list[str]
    starts: np.ndarray  # first phrasing row of each entry
    phrasings: np.ndarray
    centre: np.ndarray
    phrasings_centred: np.ndarray
    documents_centred: np.ndarray


def _centre(vectors: np.ndarray, centre: np.ndarray) -> np.ndarray:
    shifted = vectors - centre
    return shifted / np.maximum(np.linalg.norm(shifted, axis=1, keepdims=True), 1e-9)


# Searching every vector is exact and, below this many, cheaper than any approximation.
EXACT_SEARCH_LIMIT = 50_000


def phrasings(entry: FaqEntry) -> list[str]:
    """The phrasings of `entry` that are indexed: those with a letter or a digit."""
    return [text for text in entry.texts() if has_words(text)]


def entry_digest(entry: FaqEntry) -> str:
    """Changes whenever the retrievable text of an entry changes."""
    return hashlib.sha256("\x1f".join([*phrasings(entry), entry.answer]).encode()).hexdigest()[:20]


def document_text(entry: FaqEntry) -> str:
    """The text of an entry's document vector: its question, then its answer."""
    return f"{entry.question} {entry.answer}"


class FaqIndex:
    """FAISS inner-product index over normalised phrasing embeddings, keyed by FAQ id."""

    name = "faq"
    artifact = "faq"

    def __init__(self, dim: int, config: FaqConfig, encoder_fingerprint: str) -> None:
        self.dim = dim
        self.config = config
        self.encoder_fingerprint = encoder_fingerprint
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.documents = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))  # one question + answer vector per entry
        self.document_ids: dict[str, int] = {}
        self.entries: dict[str, FaqEntry] = {}
        self.digests: dict[str, str] = {}
        self.vector_ids: dict[str, list[int]] = {}
        self.owner: dict[int, str] = {}  # vector id -> FAQ id
        self._next_id = 0
        self._view: _ExactView | None = None

    def __len__(self) -> int:
        return len(self.entries)

    # --- changes ------------------------------------------------------------

    def upsert(self, entries: Iterable[FaqEntry], encode: EncodeFn) -> int:
        """Add new entries and re-index changed ones; returns how many were (re-)encoded."""
        self._view = None  # the set of entries may change even when no vector does
        changed = []
        for entry in entries:
            self.entries[entry.id] = entry
            if self.digests.get(entry.id) != entry_digest(entry):
                changed.append(entry)
        if not changed:
            return 0
        self._drop_vectors([e.id for e in changed])
        texts = [text for entry in changed for text in phrasings(entry)]
        # One encoder call for phrasings and documents: the encoder batches them together.
        encoded = np.ascontiguousarray(encode(texts + [document_text(e) for e in changed]), dtype=np.float32)
        vectors, documents = encoded[: len(texts)], encoded[len(texts) :]
        ids, owners = [], []
        for entry in changed:
            own = list(range(self._next_id, self._next_id + len(phrasings(entry))))
            self._next_id += len(own)
            self.vector_ids[entry.id] = own
            self.digests[entry.id] = entry_digest(entry)
            ids.extend(own)
            owners.extend([entry.id] * len(own))
        self.index.add_with_ids(vectors, np.array(ids, dtype=np.int64))
        self.owner.update(zip(ids, owners, strict=True))
        document_ids = list(range(self._next_id, self._next_id + len(changed)))
        self._next_id += len(changed)
        self.document_ids.update({e.id: d for e, d in zip(changed, document_ids, strict=True)})
        self.documents.add_with_ids(np.ascontiguousarray(documents), np.array(document_ids, dtype=np.int64))
        self._view = None
        return len(changed)

    def remove(self, faq_ids: Iterable[str]) -> None:
        """Forget entries and their vectors."""
        ids = list(faq_ids)
        self._drop_vectors(ids)
        for faq_id in ids:
            self.entries.pop(faq_id, None)
            self.digests.pop(faq_id, None)

    def sync(self, entries: Sequence[FaqEntry], encode: EncodeFn) -> int:
        """Make the index hold exactly `entries`; returns how many entries were encoded."""
        wanted = {e.id for e in entries}
        self.remove([faq_id for faq_id in list(self.entries) if faq_id not in wanted])
        # Ids indexed by an earlier process but missing from self.entries (fresh load).
        self._drop_vectors([faq_id for faq_id in list(self.vector_ids) if faq_id not in wanted])
        self.digests = {k: v for k, v in self.digests.items() if k in wanted}
        return self.upsert(entries, encode)

    def _drop_vectors(self, faq_ids: Iterable[str]) -> None:
        self._view = None
        faq_ids = list(faq_ids)
        documents = [self.document_ids.pop(faq_id) for faq_id in faq_ids if faq_id in self.document_ids]
        if documents:
            self.documents.remove_ids(np.array(documents, dtype=np.int64))
        drop = [vid for faq_id in faq_ids for vid in self.vector_ids.pop(faq_id, [])]
        if drop:
            self.index.remove_ids(np.array(drop, dtype=np.int64))
            for vid in drop:
                self.owner.pop(vid, None)

    # --- search -------------------------------------------------------------

    def search(self, embeddings: np.ndarray, top_k: int | None = None) -> list[list[FaqHit]]:
        """Top-k entries per query embedding, ranked by phrasing and document similarity fused."""
        k = top_k or self.config.top_k
        if self.index.ntotal == 0:
            return [[] for _ in range(len(embeddings))]
        queries = np.ascontiguousarray(embeddings, dtype=np.float32)
        if self.index.ntotal > EXACT_SEARCH_LIMIT:
            return self._search_large(queries, k)
        exact = self._exact()
        if not exact.ids:
            return [[] for _ in range(len(embeddings))]
        raw = queries @ exact.phrasings.T
        # Best phrasing per entry: rows are grouped by entry, so a segmented max does it.
        best_raw = np.maximum.reduceat(raw, exact.starts, axis=1)
        centred = _centre(queries, exact.centre)
        ranking = np.maximum.reduceat(centred @ exact.phrasings_centred.T, exact.starts, axis=1)
        weight = self.config.answer_weight
        if weight > 0:
            ranking = (1 - weight) * ranking + weight * (centred @ exact.documents_centred.T)
        results = []
        for row in range(len(queries)):
            order = np.argsort(-ranking[row], kind="stable")[:k]
            results.append([self._hit(exact.ids[j], float(best_raw[row, j])) for j in order])
        return results

    def _search_large(self, queries: np.ndarray, k: int) -> list[list[FaqHit]]:
        """Phrasings only, approximate top-k through FAISS; for indexes too big to score exactly."""
        # Several phrasings of one entry can crowd the raw top-k, so over-fetch.
        scores, ids = self.index.search(queries, min(self.index.ntotal, k * 8))
        results = []
        for row_scores, row_ids in zip(scores, ids, strict=True):
            best: dict[str, float] = {}
            for score, vid in zip(row_scores, row_ids, strict=True):
                faq_id = self.owner.get(int(vid))
                if faq_id is not None and faq_id not in best:
                    best[faq_id] = float(score)
            results.append([self._hit(f, s) for f, s in sorted(best.items(), key=lambda kv: -kv[1])[:k]])
        return results

    def _hit(self, faq_id: str, score: float) -> FaqHit:
        entry = self.entries[faq_id]
        return FaqHit(
            id=faq_id, question=entry.question, answer=entry.answer, score=round(score, 4), intent=entry.intent
        )

    def _exact(self) -> _ExactView:
        """Dense copies of the vectors for exact scoring, rebuilt only after a change."""
        if self._view is None:
            # An entry without a phrasing to match (none with a letter or digit) is not retrievable.
            ids = [f for f in self.vector_ids if self.vector_ids[f] and f in self.entries and f in self.document_ids]
            if not ids:
                empty = np.zeros((0, self.dim), dtype=np.float32)
                return _ExactView([], np.zeros(0, dtype=np.intp), empty, np.zeros(self.dim), empty, empty)
            rows = [vid for f in ids for vid in self.vector_ids[f]]
            phrasings = np.stack([self.index.reconstruct(int(v)) for v in rows]).astype(np.float32)
            documents = np.stack([self.documents.reconstruct(int(self.document_ids[f])) for f in ids])
            counts = [len(self.vector_ids[f]) for f in ids]
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
            # Centring on the index's own mean removes the direction every sentence shares
            # (the encoder's anisotropy), so cosines spread out and near-duplicates separate.
            centre = np.concatenate([phrasings, documents]).mean(0)
            self._view = _ExactView(
                ids=ids,
                starts=starts,
                phrasings=phrasings,
                centre=centre,
                phrasings_centred=_centre(phrasings, centre),
                documents_centred=_centre(documents.astype(np.float32), centre),
            )
        return self._view

    def __call__(self, turns: Sequence[Turn]) -> None:
        matrix = np.stack([t.embedding for t in turns])
        for turn, hits in zip(turns, self.search(matrix), strict=True):
            # A message without a letter or digit reads as "[UNK]": whatever it matches, it matches by accident.
            turn.faq_hits = hits if has_words(turn.text) else []

    # --- persistence --------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the vectors and id maps; entries' text stays in the store."""
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / "index.faiss"))
        faiss.write_index(self.documents, str(folder / "documents.faiss"))
        meta = {
            "dim": self.dim,
            "encoder": self.encoder_fingerprint,
            "next_id": self._next_id,
            "digests": self.digests,
            "vector_ids": self.vector_ids,
            "document_ids": self.document_ids,
        }
        (folder / "meta.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, config: BotConfig, encoder: Embedder) -> FaqIndex:
        """Read a saved index (an empty one of `encoder`'s width when none was saved yet).

        Entries must then be given with `sync` (from the store). An index built with other
        weights than `encoder`'s loads empty at `encoder`'s width, so `sync` re-encodes all.
        """
        if not (folder / "meta.json").is_file():
            return cls(encoder.dim, config.faq, encoder.fingerprint)
        encoder_fingerprint = encoder.fingerprint
        try:
            meta = json.loads((folder / "meta.json").read_text())
            raw = faiss.read_index(str(folder / "index.faiss"))
            documents = faiss.read_index(str(folder / "documents.faiss")) if "document_ids" in meta else None
        except (OSError, ValueError, RuntimeError) as exc:
            raise BuildError(
                f"FAQ index in {folder} is missing or unreadable ({exc}); run `python -m agent train`."
            ) from None
        if meta["encoder"] != encoder_fingerprint or documents is None:
            # Built with other weights, or before document vectors: start empty, `sync` re-encodes all.
            return cls(encoder.dim, config.faq, encoder_fingerprint)
        index = cls(meta["dim"], config.faq, encoder_fingerprint)
        index.index = raw
        index.documents = documents
        index.document_ids = {k: int(v) for k, v in meta["document_ids"].items()}
        index._next_id = meta["next_id"]
        index.vector_ids = {k: list(v) for k, v in meta["vector_ids"].items()}
        # Digests only count once `sync` confirms the entry still exists with that text.
        index.digests = dict(meta["digests"])
        index.owner = {vid: faq_id for faq_id, vids in index.vector_ids.items() for vid in vids}
        return index
