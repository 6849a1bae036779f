"""A tiny real decoder, trained in seconds on prompts made by the tiny bot's own pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_decoder import BASIC, PLUS, TARGETS
from tinybot import write_tiny_bot

from agent import load_trained
from agent.config import DecoderConfig
from agent.pipeline.dialog import Agent
from agent.steps.decoder.prompt import grounding_for, render_prompt
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph
from agent.training.decoder_data import Example
from agent.training.decoder_fit import build_base, finetune, save

TINY = {
    "scratch": {"layers": 1, "width": 64, "heads": 2, "vocab_size": 400},
    "training": {"epochs": 60, "batch_size": 4, "learning_rate": 3e-3, "patience": 60, "val_fraction": 0.2},
    "decoding": {"max_new_tokens": 24},
    "max_prompt_tokens": 256,
}


@pytest.fixture(scope="session")
def tiny_trained_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    folder = write_tiny_bot(tmp_path_factory.mktemp("tinydec") / "bot")
    load_trained(folder, encoder=encoder).close()
    return folder


@pytest.fixture(scope="session")
def tiny_decoder_dir(tiny_trained_dir: Path, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1-layer GPT-2 that learnt two answers by heart, one grounded and one not."""
    agent = Agent.load(tiny_trained_dir, encoder=encoder, store_url="sqlite:///:memory:")
    graph = agent.step(KnowledgeGraph)
    examples = []
    for turn in agent.annotate([("a", PLUS), ("b", BASIC)]):
        grounding = grounding_for(turn, graph, max_facts=8)
        assert grounding is not None and turn.decision is not None and turn.decision.source == "template"
        examples += [Example(render_prompt(grounding), TARGETS[turn.text])] * 4
    agent.close()
    config = DecoderConfig.model_validate(TINY)
    model, tokenizer = build_base(config, [f"{e.prompt} {e.target}" for e in examples])
    model, report = finetune(model, tokenizer, examples, config)
    assert report.best_val_loss < 0.5, report
    out = tmp_path_factory.mktemp("tinymodel")
    save(model, tokenizer, out)
    return out
