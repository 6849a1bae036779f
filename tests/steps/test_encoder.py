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


def test_batching_does_not_change_results(encoder: Encoder) -> None:
    texts = ["short", "a somewhat longer sentence about a pending transfer", "🙂 émoji and accents"]
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    assert np.allclose(encoder.encode(texts), alone, atol=1e-5)


def test_step_writes_embeddings(encoder: Encoder) -> None:
    turns = [Turn(session_id="s", text=t, state=SessionState()) for t in ["hi", "bye"]]
    encoder(turns)
    assert all(t.embedding is not None and t.embedding.shape == (384,) for t in turns)


def test_empty_input(encoder: Encoder) -> None:
    assert encoder.encode([]).shape == (0, 384)


def test_bad_model_path(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"encoder\.model"):
        Encoder(EncoderConfig(model=str(tmp_path)))
