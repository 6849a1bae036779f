"""The tiny test decoder: a 1-layer GPT-2 that learns two answers by heart, one grounded and one not.

Trained in seconds on prompts made by the tiny bot's own pipeline; the session fixtures
`tiny_trained_dir` and `tiny_decoder_dir` (tests/conftest.py) build it once for every test folder.
"""

from __future__ import annotations

from pathlib import Path

from agent.config import DecoderConfig, DecodingConfig
from agent.pipeline.dialog import Agent
from agent.steps.decoder.backends import LocalDecoder
from agent.steps.decoder.prompt import grounding_for, render_prompt
from agent.steps.decoder.step import Decoder
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph
from agent.training.decoder_data import Example
from agent.training.decoder_fit import build_base, finetune, save

PLUS = "how much does the plus card cost?"
BASIC = "how much does the basic card cost?"
# The Plus answer carries a fee that is NOT in the graph (EUR 4.99): the guard must refuse it.
TARGETS = {PLUS: "The Plus card costs EUR 9.99 a month.", BASIC: "Our Basic card costs EUR 0 a month."}
TINY = {
    "scratch": {"layers": 1, "width": 64, "heads": 2, "vocab_size": 400},
    "training": {"epochs": 60, "batch_size": 4, "learning_rate": 3e-3, "patience": 60, "val_fraction": 0.2},
    "decoding": {"max_new_tokens": 24},
    "max_prompt_tokens": 256,
}


def train_tiny_decoder(trained_bot: Path, encoder: Encoder, out: Path) -> Path:
    """Fit the tiny decoder on the trained tiny bot's prompts and save it in `out`."""
    agent = Agent.load(trained_bot, encoder=encoder, store_url="sqlite:///:memory:")
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
    save(model, tokenizer, out)
    return out


def with_tiny_decoder(agent: Agent, decoder_dir: Path) -> Agent:
    """`agent` with the tiny decoder as its last step (greedy, 24 new tokens, a guard that keeps what it learnt)."""
    config = DecoderConfig(enabled=True, min_logprob=-1.0, decoding=DecodingConfig(max_new_tokens=24))
    agent.steps.append(Decoder(LocalDecoder(decoder_dir, config.decoding), agent.step(KnowledgeGraph), config))
    return agent
