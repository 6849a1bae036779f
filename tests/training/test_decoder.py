"""`train` with the decoder enabled: data from the bot's own pipeline, fine-tuning, save_pretrained, incremental."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from tinybot import write_tiny_bot

from agent import load_trained
from agent.pipeline.assemble import load_bot
from agent.pipeline.dialog import Agent
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph
from agent.training.build import build
from agent.training.decoder_data import augment, collect_examples

TINY_DECODER = {
    "enabled": True,
    "min_logprob": -5.0,
    "scratch": {"layers": 1, "width": 32, "heads": 2, "vocab_size": 300},
    "training": {"epochs": 2, "batch_size": 8},
    "decoding": {"max_new_tokens": 8},
    "examples_per_intent": 3,
}


def test_examples_come_from_the_pipeline(tmp_path: Path, encoder: Encoder) -> None:
    folder = write_tiny_bot(tmp_path / "bot")
    bot = load_bot(folder)
    agent = load_trained(folder, encoder=encoder, store_url="sqlite:///:memory:")
    examples = collect_examples(agent.annotate, bot, agent.step(KnowledgeGraph))
    agent.close()
    targets = {e.target for e in examples}
    assert "Support is open 24/7 in the app." in targets  # a FAQ answer
    # A template filled from the graph, its value delexicalised: the model points at the fact.
    plus = [e for e in examples if e.target.startswith("The Plus card costs [f")]
    assert plus and all(e.target.endswith("] a month.") for e in plus)
    assert all("| EUR 4.99" in e.prompt for e in plus)
    assert any("[steps]" in t for t in targets)  # procedures are a marker, not re-typed
    assert all(e.prompt.endswith("\nanswer:") and e.prompt.startswith("intent: ") for e in examples)
    assert not any("Which card" in t for t in targets)  # questions back are not decoder material


def test_augment_changes_text_reproducibly() -> None:
    import random

    a = [augment("How much does the Plus card cost?", random.Random(s)) for s in range(6)]
    b = [augment("How much does the Plus card cost?", random.Random(s)) for s in range(6)]
    assert a == b and len(set(a)) > 1


def test_train_builds_and_skips_the_decoder(tmp_path: Path, encoder: Encoder) -> None:
    config = {
        "name": "Tiny bot",
        "intents": {"confident": 0.3, "oos_threshold": 0.2},
        "decoder": TINY_DECODER,
        "dialog": {"small_talk": False},
    }
    folder = write_tiny_bot(tmp_path / "bot", config=config)
    first = build(load_bot(folder), encoder=encoder, progress=False)
    assert "decoder" in first.built
    saved = folder / "build" / "decoder"
    assert (saved / "config.json").is_file() and (saved / "tokenizer.json").is_file()
    assert json.loads((saved / "training.json").read_text())["method"] == "full"
    second = build(load_bot(folder), encoder=encoder, progress=False)
    assert "decoder" in second.skipped
    agent = Agent.load(folder, encoder=encoder)
    reply = agent.respond("s", "how much does the plus card cost?")
    assert reply.decoder is not None  # the decoder ran; its text was kept or refused with reasons
    assert reply.decoder.accepted or reply.decoder.rejected
    agent.close()
    # Decoding settings do not invalidate the trained model.
    config["decoder"] = {**TINY_DECODER, "decoding": {"max_new_tokens": 8, "mode": "beam"}}
    (folder / "bot.yaml").write_text(yaml.safe_dump(config))
    assert "decoder" in build(load_bot(folder), encoder=encoder, progress=False).skipped


def test_scratch_tokenizer_learns_phrases_and_round_trips(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from agent.config import DecoderConfig
    from agent.training.decoder_fit import build_base, save

    answer = "Above the free allowance we charge 2% per withdrawal (minimum EUR 1.00)."
    corpus = [f"intent: cash_{i}\nanswer: {answer}" for i in range(40)] + ["something else entirely, 42 times"] * 5
    phrases = DecoderConfig(scratch={"vocab_size": 400})
    words = DecoderConfig(scratch={"vocab_size": 400, "phrase_tokens": False})
    model, tokenizer = build_base(phrases, corpus)
    _, word_tokenizer = build_base(words, corpus)
    ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    assert len(ids) < len(word_tokenizer(answer, add_special_tokens=False)["input_ids"])
    assert any(" " in tokenizer.decode([i]).strip() for i in ids)  # some token spans words
    assert tokenizer.decode(ids) == answer
    save(model, tokenizer, tmp_path / "decoder")
    loaded = AutoTokenizer.from_pretrained(str(tmp_path / "decoder"))
    unseen = "Ünïcode and numbers 9,876 never seen"  # byte-level: anything can be written
    assert loaded(unseen)["input_ids"] == tokenizer(unseen)["input_ids"]
    assert loaded.decode(loaded(unseen)["input_ids"]) == unseen
    assert model.config.resid_pdrop == 0.0 and len(tokenizer) <= 400
