"""Step 2: FAQ retrieval with FAISS over every phrasing of every entry.

The SQL store holds the entries (source of truth); this index holds one
vector per phrasing (question and alternatives) and answers top-k entries by
their best-matching phrasing. Entries are fingerprinted, so `sync` re-encodes
only what changed and a run-time add, edit or delete never needs a rebuild.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import faiss
import numpy as np

from agent.config import FaqConfig
from agent.exceptions import BuildError
from agent.schemas import FaqEntry
from agent.types import FaqHit, Turn

EncodeFn = Callable[[Sequence[str]], np.ndarray]


def entry_digest(entry: FaqEntry) -> str:
    """Changes whenever the retrievable text of an entry changes."""
    return hashlib.sha256("\x1f".join(entry.texts()).encode()).hexdigest()[:20]


class FaqIndex:
    """FAISS inner-product index over normalised phrasing embeddings, keyed by FAQ id."""

    name = "faq"

    def __init__(self, dim: int, config: FaqConfig, encoder_fingerprint: str) -> None:
        self.dim = dim
        self.config = config
        self.encoder_fingerprint = encoder_fingerprint
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.entries: dict[str, FaqEntry] = {}
        self.digests: dict[str, str] = {}
        self.vector_ids: dict[str, list[int]] = {}
        self.owner: dict[int, str] = {}  # vector id -> FAQ id
        self._next_id = 0

    def __len__(self) -> int:
        return len(self.entries)

    # --- changes ------------------------------------------------------------

    def upsert(self, entries: Iterable[FaqEntry], encode: EncodeFn) -> int:
        """Add new entries and re-index changed ones; returns how many were (re-)encoded."""
        changed = []
        for entry in entries:
            self.entries[entry.id] = entry
            if self.digests.get(entry.id) != entry_digest(entry):
                changed.append(entry)
        if not changed:
            return 0
        self._drop_vectors([e.id for e in changed])
        texts = [text for entry in changed for text in entry.texts()]
        vectors = np.ascontiguousarray(encode(texts), dtype=np.float32)
        ids, owners = [], []
        for entry in changed:
            own = list(range(self._next_id, self._next_id + len(entry.texts())))
            self._next_id += len(own)
            self.vector_ids[entry.id] = own
            self.digests[entry.id] = entry_digest(entry)
            ids.extend(own)
            owners.extend([entry.id] * len(own))
        self.index.add_with_ids(vectors, np.array(ids, dtype=np.int64))
        self.owner.update(zip(ids, owners, strict=True))
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
        drop = [vid for faq_id in faq_ids for vid in self.vector_ids.pop(faq_id, [])]
        if drop:
            self.index.remove_ids(np.array(drop, dtype=np.int64))
            for vid in drop:
                self.owner.pop(vid, None)

    # --- search -------------------------------------------------------------

    def search(self, embeddings: np.ndarray, top_k: int | None = None) -> list[list[FaqHit]]:
        """Top-k entries per query embedding, scored by their best phrasing's cosine similarity."""
        k = top_k or self.config.top_k
        if self.index.ntotal == 0:
            return [[] for _ in range(len(embeddings))]
        # Several phrasings of one entry can crowd the raw top-k, so over-fetch.
        fetch = min(self.index.ntotal, k * 8)
        scores, ids = self.index.search(np.ascontiguousarray(embeddings, dtype=np.float32), fetch)
        results = []
        for row_scores, row_ids in zip(scores, ids, strict=True):
            best: dict[str, float] = {}
            for score, vid in zip(row_scores, row_ids, strict=True):
                faq_id = self.owner.get(int(vid))
                if faq_id is not None and faq_id not in best:
                    best[faq_id] = float(score)
            hits = []
            for faq_id, score in sorted(best.items(), key=lambda kv: -kv[1])[:k]:
                entry = self.entries[faq_id]
                hits.append(
                    FaqHit(
                        id=faq_id,
                        question=entry.question,
                        answer=entry.answer,
                        score=round(score, 4),
                        intent=entry.intent,
                    )
                )
            results.append(hits)
        return results

    def __call__(self, turns: Sequence[Turn]) -> None:
        matrix = np.stack([t.embedding for t in turns])
        for turn, hits in zip(turns, self.search(matrix), strict=True):
            turn.faq_hits = hits

    # --- persistence --------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the vectors and id maps; entries' text stays in the store."""
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / "index.faiss"))
        meta = {
            "dim": self.dim,
            "encoder": self.encoder_fingerprint,
            "next_id": self._next_id,
            "digests": self.digests,
            "vector_ids": self.vector_ids,
        }
        (folder / "meta.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path, config: FaqConfig, encoder_fingerprint: str) -> FaqIndex:
        """Read a saved index; entries must then be given with `sync` (from the store)."""
        try:
            meta = json.loads((folder / "meta.json").read_text())
            raw = faiss.read_index(str(folder / "index.faiss"))
        except (OSError, ValueError, RuntimeError) as exc:
            raise BuildError(
                f"FAQ index in {folder} is missing or unreadable ({exc}); run `python -m agent train`."
            ) from None
        index = cls(meta["dim"], config, encoder_fingerprint)
        if meta["encoder"] != encoder_fingerprint:
            return index  # built with other weights: start empty, `sync` re-encodes everything
        index.index = raw
        index._next_id = meta["next_id"]
        index.vector_ids = {k: list(v) for k, v in meta["vector_ids"].items()}
        # Digests only count once `sync` confirms the entry still exists with that text.
        index.digests = dict(meta["digests"])
        index.owner = {vid: faq_id for faq_id, vids in index.vector_ids.items() for vid in vids}
        return index
