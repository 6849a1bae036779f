"""The real MiniLM encoder: unit vectors, meaning-preserving, batch-invariant."""

from __future__ import annotations

import numpy as np
import pytest

from agent.config import EncoderConfig
from agent.exceptions import ConfigError
from agent.steps.encoder import Encoder
from agent.types import SessionState, Turn


def test_unit_vectors_and_similarity(encoder: Encoder) -> None:
    vectors = encoder.encode(["my card was stolen", "someone stole my debit card", "what's the weather in Rome"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


@pytest.fixture(scope="module")
def uncached() -> Encoder:
    return Encoder(EncoderConfig(cache_entries=0))


def test_batching_does_not_change_results(uncached: Encoder) -> None:
    texts = ["short", "a somewhat longer sentence about a pending transfer", "🙂 émoji and accents"]
    alone = np.stack([uncached.encode([t])[0] for t in texts])
    assert np.allclose(uncached.encode(texts), alone, atol=1e-5)
    assert not uncached._cache


class _Counting(Encoder):
    """The real encoder, counting the texts it actually runs through the model."""

    encoded = 0

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return super()._encode_batch(texts)


def test_texts_seen_before_are_not_encoded_again_and_the_cache_is_bounded(uncached: Encoder) -> None:
    counting = _Counting(EncoderConfig(cache_entries=3))
    first = counting.encode(["a", "b", "a"])  # a repeated text is encoded once
    assert counting.encoded == 2 and np.array_equal(first[0], first[2])
    again = counting.encode(["b", "c", "a"])
    assert counting.encoded == 3  # only "c" was new
    assert np.allclose(again, uncached.encode(["b", "c", "a"]), atol=1e-5)
    counting.encode(["d"])  # the cache holds 3: the least recently used ("b") goes
    assert list(counting._cache) == ["a", "c", "d"]
    counting.encode(["b"])
    assert counting.encoded == 5
    first[0] += 1.0  # what a caller does with its array never reaches the cache
    assert np.allclose(counting.encode(["a"]), uncached.encode(["a"]), atol=1e-5)


def test_step_writes_embeddings(encoder: Encoder) -> None:
    turns = [Turn(session_id="s", text=t, state=SessionState()) for t in ["hi", "bye"]]
    encoder(turns)
    assert all(t.embedding is not None and t.embedding.shape == (384,) for t in turns)


def test_empty_input(encoder: Encoder) -> None:
    assert encoder.encode([]).shape == (0, 384)


def test_bad_model_path(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"encoder\.model"):
        Encoder(EncoderConfig(model=str(tmp_path)))
