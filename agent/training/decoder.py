"""`train`'s decoder stage: make the data with the freshly built pipeline, fine-tune, save."""

from __future__ import annotations

import json
from dataclasses import asdict

from agent.bot.folder import BotFolder
from agent.pipeline.dialog import Agent
from agent.steps.graph import KnowledgeGraph
from agent.training.decoder_data import collect_examples
from agent.training.decoder_fit import FitReport, build_base, finetune, save


def train_decoder(bot: BotFolder, pipeline: Agent, progress: bool = False) -> FitReport:
    """Fine-tune the decoder named in bot.yaml and write it to `build/decoder/`.

    `pipeline` is the bot as just built, without its decoder: its answers are what the decoder learns.
    """
    graph = pipeline.step(KnowledgeGraph)
    examples = collect_examples(pipeline.annotate, bot, graph, progress=progress)
    cfg = bot.config.decoder
    model, tokenizer = build_base(cfg, [f"{ex.prompt} {ex.target}" for ex in examples])
    model, report = finetune(model, tokenizer, examples, cfg, progress=progress)
    folder = bot.build_path / "decoder"
    save(model, tokenizer, folder)
    (folder / "training.json").write_text(json.dumps({"base": cfg.base, **asdict(report)}, indent=1))
    return report
