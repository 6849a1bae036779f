"""`train`'s decoder stage: make the data with the freshly built pipeline, fine-tune, save."""

from __future__ import annotations

import json
from dataclasses import asdict

from agent.botfolder import BotFolder
from agent.decoder.data import collect_examples
from agent.decoder.training import FitReport, build_base, finetune, save
from agent.dialog import Agent
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph


def train_decoder(bot: BotFolder, store_url: str, encoder: Encoder, progress: bool = False) -> FitReport:
    """Fine-tune the decoder named in bot.yaml and write it to `build/decoder/`."""
    agent = Agent.load(bot.path, store_url=store_url, decoder=False, encoder=encoder)
    try:
        graph = agent.step(KnowledgeGraph)
        examples = collect_examples(agent, bot, graph, progress=progress)
    finally:
        agent.close()
    cfg = bot.config.decoder
    model, tokenizer = build_base(cfg, [f"{ex.prompt} {ex.target}" for ex in examples])
    model, report = finetune(model, tokenizer, examples, cfg, progress=progress)
    folder = bot.build_path / "decoder"
    save(model, tokenizer, folder)
    (folder / "training.json").write_text(json.dumps({"base": cfg.base, **asdict(report)}, indent=1))
    return report
