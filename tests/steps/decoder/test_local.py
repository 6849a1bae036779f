"""A real tiny causal LM: every decoding mode, scores, save/load, and the decoder step with its guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_decoder import BASIC, PLUS, TARGETS

from agent.config import DecoderConfig, DecodingConfig
from agent.pipeline.dialog import Agent
from agent.steps.decoder.backends import LocalDecoder
from agent.steps.decoder.prompt import grounding_for, render_prompt
from agent.steps.decoder.step import Decoder
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph


def prompts(folder: Path, encoder: Encoder) -> list[str]:
    agent = Agent.load(folder, encoder=encoder, store_url="sqlite:///:memory:")
    graph = agent.step(KnowledgeGraph)
    out = [render_prompt(grounding_for(t, graph, 8)) for t in agent.annotate([("a", PLUS), ("b", BASIC)])]  # type: ignore[arg-type]
    agent.close()
    return out


def test_greedy_reproduces_what_it_learnt(tiny_decoder_dir: Path, tiny_trained_dir: Path, encoder: Encoder) -> None:
    decoder = LocalDecoder(tiny_decoder_dir, DecodingConfig(max_new_tokens=24))
    plus, basic = decoder.generate(prompts(tiny_trained_dir, encoder))
    assert plus.text == TARGETS[PLUS] and basic.text == TARGETS[BASIC]
    assert plus.mean_logprob is not None and -1.0 < plus.mean_logprob <= 0.0
    assert 0 < plus.tokens <= 24


@pytest.mark.parametrize("mode", ["greedy", "beam", "sample"])
def test_every_decoding_mode_generates(
    tiny_decoder_dir: Path, tiny_trained_dir: Path, encoder: Encoder, mode: str
) -> None:
    cfg = DecodingConfig(
        mode=mode, num_beams=3, top_k=5, top_p=0.9, temperature=0.8, repetition_penalty=1.1, max_new_tokens=16, seed=3
    )
    first = LocalDecoder(tiny_decoder_dir, cfg).generate(prompts(tiny_trained_dir, encoder))
    again = LocalDecoder(tiny_decoder_dir, cfg).generate(prompts(tiny_trained_dir, encoder))
    assert all(g.text and g.mean_logprob is not None for g in first)
    assert [g.text for g in first] == [g.text for g in again]  # seeded: reproducible


def test_max_new_tokens_is_respected(tiny_decoder_dir: Path, tiny_trained_dir: Path, encoder: Encoder) -> None:
    out = LocalDecoder(tiny_decoder_dir, DecodingConfig(max_new_tokens=3)).generate(prompts(tiny_trained_dir, encoder))
    assert all(g.tokens <= 3 for g in out)


def test_step_keeps_grounded_text_and_refuses_an_invented_fee(
    tiny_decoder_dir: Path, tiny_trained_dir: Path, encoder: Encoder
) -> None:
    agent = Agent.load(tiny_trained_dir, encoder=encoder, store_url="sqlite:///:memory:")
    config = DecoderConfig(enabled=True, min_logprob=-1.0, decoding=DecodingConfig(max_new_tokens=24))
    agent.steps.append(Decoder(LocalDecoder(tiny_decoder_dir, config.decoding), agent.step(KnowledgeGraph), config))
    plus, basic = agent.respond_batch([("p", PLUS), ("b", BASIC)])  # one generate call for both
    # The model said EUR 9.99 for the Plus card: the guard refuses it and the template answers.
    assert plus.source == "template" and "EUR 4.99" in plus.text
    assert plus.decoder is not None and plus.decoder.text == TARGETS[PLUS] and not plus.decoder.accepted
    assert "unsupported value 'eur 9.99'" in plus.decoder.rejected
    # The Basic answer is grounded, so the decoder's own wording is used.
    assert basic.source == "decoder" and basic.text == TARGETS[BASIC]
    assert basic.decoder is not None and basic.decoder.accepted and "decoder rewrote" in basic.reason
    stored = agent.conversation("p")
    assert stored is not None and stored.turns[-1].trace.decoder.rejected  # type: ignore[union-attr]
    agent.close()


def test_low_confidence_is_refused(tiny_decoder_dir: Path, tiny_trained_dir: Path, encoder: Encoder) -> None:
    agent = Agent.load(tiny_trained_dir, encoder=encoder, store_url="sqlite:///:memory:")
    config = DecoderConfig(enabled=True, min_logprob=-0.0001)
    agent.steps.append(Decoder(LocalDecoder(tiny_decoder_dir, config.decoding), agent.step(KnowledgeGraph), config))
    reply = agent.respond("b", BASIC)
    assert reply.source == "template" and any("low confidence" in p for p in reply.decoder.rejected)  # type: ignore[union-attr]
    agent.close()


def test_unreadable_model_folder(tmp_path: Path) -> None:
    from agent.exceptions import BuildError

    with pytest.raises(BuildError, match="cannot be loaded"):
        LocalDecoder(tmp_path, DecodingConfig())
