"""Choosing one of an intent's imported replies: the one whose past messages are closest.

A company's past conversations give an intent many replies, each the answer to some
messages ("where is my order?" got the tracking reply, "my order is late" the delay
reply). `dialogs/responses.yaml` keeps each reply with the messages it answered; this
selector encodes those messages once (`train`), and for a customer message read as the
intent gives the reply with the most similar past message (nearest neighbour), so one
intent's different questions get their own replies. A reply that holds a `{{marker}}`
this conversation cannot fill is passed over for the next best (`choose(skip=...)`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agent.bot.schemas import ResponsesFile
from agent.config import BotConfig
from agent.exceptions import BuildError
from agent.types import Embedder

META_FILE = "meta.json"
VECTORS_FILE = "vectors.npz"


@dataclass(frozen=True)
class Chosen:
    """The reply picked for a message, and how close its nearest past message was."""

    text: str
    similarity: float
    index: int  # which of the intent's responses


class ResponseSelector:
    """Nearest past message -> its reply, per intent."""

    artifact = "responses"

    def __init__(self, replies: dict[str, list[str]], owners: list[tuple[str, int]], vectors: np.ndarray) -> None:
        self.replies = replies  # intent -> its reply texts, in responses.yaml order
        self.owners = owners  # per vector row: (intent, reply index)
        self.vectors = vectors.astype(np.float32)  # unit-length embeddings of the past messages
        grouped: dict[str, list[int]] = {}
        for row, (intent, _) in enumerate(owners):
            grouped.setdefault(intent, []).append(row)
        self._rows = {intent: np.array(rows, dtype=np.int64) for intent, rows in grouped.items()}

    @classmethod
    def empty(cls) -> ResponseSelector:
        return cls({}, [], np.zeros((0, 0), dtype=np.float32))

    @classmethod
    def build(cls, spec: ResponsesFile, encode: Callable[[Sequence[str]], np.ndarray]) -> ResponseSelector:
        replies = {intent: [r.text for r in responses] for intent, responses in spec.responses.items()}
        texts = [a for responses in spec.responses.values() for r in responses for a in r.answers]
        owners = [
            (intent, i)
            for intent, responses in spec.responses.items()
            for i, r in enumerate(responses)
            for _ in r.answers
        ]
        vectors = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
        return cls(replies, owners, vectors)

    def has(self, intent: str) -> bool:
        return bool(self.replies.get(intent))

    def choose(self, intent: str, embedding: np.ndarray | None, skip: Sequence[int] = ()) -> Chosen | None:
        """The reply of `intent` for a message embedded as `embedding` (its first reply without one)."""
        texts = self.replies.get(intent) or []
        if not texts:
            return None
        rows = self._rows.get(intent)
        best: dict[int, float] = {}
        if embedding is not None and rows is not None and len(rows) and self.vectors.shape[1] == embedding.shape[-1]:
            similarity = self.vectors[rows] @ embedding.astype(np.float32)
            for row, score in zip(rows, similarity, strict=True):
                index = self.owners[int(row)][1]
                best[index] = max(best.get(index, -1.0), float(score))
        order = sorted(range(len(texts)), key=lambda i: -best.get(i, -1.0))
        for index in order:
            if index not in skip:
                return Chosen(texts[index], round(best.get(index, 0.0), 4), index)
        return None

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / VECTORS_FILE, vectors=self.vectors)
        meta = {"replies": self.replies, "owners": self.owners}
        (folder / META_FILE).write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path, config: BotConfig, encoder: Embedder) -> ResponseSelector:
        try:
            meta = json.loads((folder / META_FILE).read_text())
            with np.load(folder / VECTORS_FILE) as data:
                vectors = data["vectors"]
        except (OSError, ValueError, KeyError) as exc:
            raise BuildError(
                f"The responses in {folder} are missing or unreadable ({exc.__class__.__name__}); "
                "run `python -m agent train` to rebuild them."
            ) from None
        owners = [(str(intent), int(index)) for intent, index in meta["owners"]]
        return cls({k: list(v) for k, v in meta["replies"].items()}, owners, vectors)
