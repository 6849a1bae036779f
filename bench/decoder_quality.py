"""Answer quality and latency with the decoder, on the held-out quality set (bench/quality_set.yaml).

Trains the demo bot's decoder with the given base in a temporary copy of the bot
(incremental: a second run reuses the build), then answers every message of the
quality set in a fresh conversation and scores four systems on the same turns:

- decoder only:          the decoder's text whenever it ran, guard ignored;
- decoder + guard:       the bot's final replies (the decoder where its guard agreed, else template/FAQ);
- templates only:        the predicted intent's template with slots from the message;
- FAQ only:              the best FAQ hit's answer;
- no decoder:            the bot's reply with the decoder off (policy: FAQ, template, ask, fallback, handoff).

Metrics: fact accuracy (all required facts present), hallucination rate (a number or
product name not in the turn's grounding), fallback rate, ROUGE-L F1 against the reference,
and for the final replies the share of confident in-scope replies written by the decoder.
Latency: `respond` one message at a time, decoder included.

    python -m bench.decoder_quality --base scratch [--work /tmp/decoder-bench]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import yaml

from agent import Agent
from agent.pipeline.artifacts import fingerprints, read_manifest
from agent.pipeline.assemble import load_bot
from agent.steps.decoder.guard import GroundingGuard, claims, rouge_l
from agent.steps.decoder.prompt import grounding_for
from agent.steps.decoder.step import Decoder
from agent.steps.graph import KnowledgeGraph
from agent.steps.policy import Policy
from agent.steps.templates import Ask
from agent.training.build import build
from agent.types import SessionState, Turn
from bench.common import ROOT, machine, percentile

ANSWERED = {"decoder", "faq", "template"}


def prepare(
    base: str,
    work: Path,
    model: Path | None = None,
    training: dict[str, float] | None = None,
    options: dict[str, object] | None = None,
) -> Path:
    """A copy of the demo bot with the decoder enabled on `base`, trained (incrementally).

    With `model`, that already fine-tuned folder is used as the bot's decoder instead of training
    one here (e.g. a model trained on a GPU machine, or by an earlier run).
    """
    work.mkdir(parents=True, exist_ok=True)
    for name in ("knowledge", "dialogs"):
        shutil.copytree(ROOT / name, work / name, dirs_exist_ok=True)
    config = yaml.safe_load((ROOT / "bot.yaml").read_text())
    decoder = config.setdefault("decoder", {})
    decoder.update(enabled=model is None, base=base, **(options or {}))
    if training:
        decoder["training"] = {**decoder.get("training", {}), **training}
    (work / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    build(load_bot(work), progress=True)
    if model is not None:
        shutil.copytree(model, work / "build" / "decoder", dirs_exist_ok=True)
        decoder["enabled"] = True
        (work / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        manifest = read_manifest(work / "build")
        manifest["decoder"] = fingerprints(load_bot(work))["decoder"]
        (work / "build" / "manifest.json").write_text(json.dumps(manifest))
    return work


def without_decoder(agent: Agent, message: str) -> Turn:
    """The turn as the pipeline leaves it before the decoder: its grounding, draft and template."""
    turn = Turn(session_id="bench", text=message, state=SessionState())
    for step in agent.steps:
        if not isinstance(step, Decoder):  # its rewrite would hide the draft the other systems are scored on
            step([turn])
    return turn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="scratch", help="decoder.base to train and measure")
    parser.add_argument("--work", default=None, help="folder for the bot copy and its build (kept between runs)")
    parser.add_argument("--model", default=None, help="measure this fine-tuned decoder folder instead of training")
    parser.add_argument(
        "--minutes", type=float, default=None, help="decoder.training.max_minutes (default: bot.yaml's)"
    )
    parser.add_argument("--details", default=None, help="write every item's scored replies to this JSONL file")
    parser.add_argument("--epochs", type=int, default=None, help="decoder.training.epochs (default: bot.yaml's)")
    parser.add_argument("--draft", action="store_true", help="decoder.prompt_draft: the policy's answer in the prompt")
    parser.add_argument(
        "--decoding", default=None, help="decoder.decoding settings as JSON, e.g. '{\"no_repeat_ngram_size\": 6}'"
    )
    args = parser.parse_args()
    work = Path(args.work or f"/tmp/decoder-bench-{args.base.replace('/', '_')}")
    training = {k: v for k, v in (("max_minutes", args.minutes), ("epochs", args.epochs)) if v is not None}
    options: dict[str, object] = {"prompt_draft": True} if args.draft else {}
    if args.decoding:
        options["decoding"] = json.loads(args.decoding)
    bot_dir = prepare(args.base, work, Path(args.model) if args.model else None, training, options)
    items = yaml.safe_load((ROOT / "bench" / "quality_set.yaml").read_text())["items"]
    agent = Agent.load(bot_dir, store_url="sqlite:///:memory:")
    graph = agent.step(KnowledgeGraph)
    engine = agent.step(Policy).templates
    guard = GroundingGuard(graph)
    persona = list(agent.config.persona.model_dump().values())
    systems = {name: [] for name in ("decoder_only", "decoder_guard", "templates_only", "faq_only", "no_decoder")}
    sources, latencies, tokens, decode_ms = {}, [], 0, 0.0
    rejections: dict[str, int] = {}  # why the guard refused the decoder's text, by kind of problem
    for i, item in enumerate(items):
        started = time.perf_counter()
        reply = agent.respond(f"q{i}", item["message"])
        latencies.append((time.perf_counter() - started) * 1000)
        turn = without_decoder(agent, item["message"])
        grounding = grounding_for(turn, graph, agent.config.decoder.max_facts)
        ground_texts = [h.answer for h in turn.faq_hits] + [f.value for f in turn.graph.facts]
        if grounding is not None:
            ground_texts += [*grounding.texts(), grounding.draft]
        if reply.decoder is not None:
            tokens += len(reply.decoder.text.split())
            decode_ms += reply.decoder.latency_ms
            for problem in reply.decoder.rejected:
                kind = problem.split(" '")[0].split(" (")[0]
                rejections[kind] = rejections.get(kind, 0) + 1
        slots = engine.fill_slots(turn.intent.name, turn.graph.entities, {}) if engine.has(turn.intent.name) else {}
        rendered = engine.render(turn.intent.name, slots) if engine.has(turn.intent.name) else None
        template_text = "" if rendered is None else rendered.text
        outputs = {
            "decoder_only": (reply.decoder.text if reply.decoder else reply.text, reply.source),
            "decoder_guard": (reply.text, reply.source),
            "templates_only": (template_text, "ask" if isinstance(rendered, Ask) or rendered is None else "template"),
            "faq_only": (turn.faq_hits[0].answer if turn.faq_hits else "", "faq" if turn.faq_hits else "fallback"),
            # The bot's reply with the decoder off: what the decoder starts from (its ceiling on fact accuracy).
            "no_decoder": (turn.decision.text, turn.decision.source) if turn.decision else ("", "fallback"),
        }
        if rendered is not None and not isinstance(rendered, Ask):
            ground_texts += [f.value for f in rendered.facts]
        # The persona's fixed messages (fallback, handoff ...) are the bot owner's words, like a template's.
        ground_texts += persona
        if turn.decision is not None and turn.decision.source == "handoff":
            ground_texts.append(turn.decision.text)  # the human_handoff template: the owner's fixed words too
        source_claims = claims("\n".join(ground_texts))
        source_names = guard.names("\n".join(ground_texts)) | guard.names(item["message"])
        source_names |= {m.id for m in turn.graph.entities}
        for name, (text, source) in outputs.items():
            invented = sorted(claims(text) - source_claims) + sorted(guard.names(text) - source_names)
            systems[name].append(
                {
                    "id": item["id"],
                    "text": text,
                    "invented": invented,
                    "facts_ok": all(fact in text for fact in item["required_facts"]),
                    "hallucinated": bool(invented),
                    "fallback": source not in ANSWERED,
                    "rouge_l": rouge_l(text, item["reference"]),
                    "source": source,
                }
            )
        sources[reply.source] = sources.get(reply.source, 0) + 1
    agent.close()
    n = len(items)
    report: dict[str, object] = {"benchmark": "decoder_quality", "base": args.base, "items": n}
    for name, rows in systems.items():
        report[name] = {
            "fact_accuracy": round(sum(r["facts_ok"] for r in rows) / n, 4),
            "hallucination_rate": round(sum(r["hallucinated"] for r in rows) / n, 4),
            "fallback_rate": round(sum(r["fallback"] for r in rows) / n, 4),
            "rouge_l": round(sum(r["rouge_l"] for r in rows) / n, 4),
        }
    answered = [r for r in systems["decoder_guard"] if r["source"] in ANSWERED]
    report["decoder_share_of_confident_replies"] = round(
        sum(r["source"] == "decoder" for r in answered) / max(len(answered), 1), 4
    )
    report["final_sources"] = sources
    report["guard_rejections"] = dict(sorted(rejections.items(), key=lambda kv: -kv[1]))
    if args.details:  # one line per item and system: what was said, what was missing or invented
        with open(args.details, "w") as out:
            for name, rows in systems.items():
                for row in rows:
                    out.write(json.dumps({"system": name, **row}) + "\n")
    report["latency_ms_p50"] = round(percentile(latencies, 50), 1)
    report["latency_ms_p95"] = round(percentile(latencies, 95), 1)
    report["decoder_words_per_second"] = round(tokens / (decode_ms / 1000), 1) if decode_ms else None
    training_file = bot_dir / "build" / "decoder" / "training.json"
    report["training"] = json.loads(training_file.read_text()) if training_file.is_file() else None
    report.update(machine())
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
