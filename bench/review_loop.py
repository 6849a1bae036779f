"""Does the review queue choose the labels that help most? Banking77 train as a production log.

A sample of Banking77's training messages (which the demo bot never saw) is replayed through a
decoder-off copy of the demo; `review export --from-run` ranks them, the top N rows are labelled
with their dataset labels (labels the demo lacks are left empty) and applied with `review apply`;
the bot is retrained and its Banking77 test accuracy compared with the same number of random
messages of the same sample, labelled and applied the same way. Prints one JSON object.

    AGENT_DATASETS=/path/to/datasets python -m bench.review_loop [--sample 3000] [--top 200] [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from agent import load_trained
from agent.config import EncoderConfig
from agent.pipeline.assemble import load_bot
from agent.replay.command import ReplayOptions, run_replay
from agent.replay.results import read_results
from agent.review.apply import apply_review
from agent.review.export import COLUMNS, ExportOptions, export, unsafe_cell
from agent.review.queue import key
from agent.steps.encoder import Encoder
from agent.training.build import build
from bench.common import ROOT, copy_bot, decoder_off, machine, read_rows


def accuracy(bot: Path, encoder: Encoder, test: list[dict[str, str]]) -> float:
    agent = load_trained(bot, decoder=False, store_url="sqlite:///:memory:", encoder=encoder)
    try:
        classifier = next(step for step in agent.steps if step.name == "intent")
        texts = [r["text"] for r in test]
        predicted = classifier.predict(agent.step(Encoder).encode(texts), texts=texts)  # type: ignore[attr-defined]
        return float(np.mean([p.name == r["category"] for p, r in zip(predicted, test, strict=True)]))
    finally:
        agent.close()


def labelled(rows: list[dict[str, str]], gold: dict[str, str], intents: set[str], path: Path) -> int:
    """Write `rows` with each text's dataset label (empty when the demo lacks it); returns the labels given."""
    given = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            label = gold.get(key(unsafe_cell(row["text"])), "")
            label = label if label in intents else ""
            given += bool(label)
            writer.writerow({**row, "label": label})
    return given


def trial(base: Path, work: Path, name: str, review: Path, encoder: Encoder, test: list[dict[str, str]]) -> dict:
    bot = work / name
    shutil.copytree(base, bot)
    applied = apply_review(review, bot)
    build(load_bot(bot), encoder=encoder, progress=False)
    added = applied.lines[0].split(": ", 1)[-1]  # "added N new intents, M examples, ..." without the temp path
    return {"labels": applied.labelled, "added": added, "accuracy": accuracy(bot, encoder, test)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--top", type=int, default=200)
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the random baselines")
    args = parser.parse_args()
    started = time.perf_counter()
    encoder = Encoder(EncoderConfig())
    sample = random.Random(17).sample(read_rows("banking77/train.csv"), args.sample)
    test = read_rows("banking77/test.csv")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = copy_bot(ROOT, work / "base", decoder_off)
        build(load_bot(base), encoder=encoder, progress=False)
        phases = {"train_base": time.perf_counter() - started}
        intents = {e["name"] for e in yaml.safe_load((base / "knowledge/intents.yaml").read_text())["intents"]}
        log = work / "log.jsonl"
        with log.open("w", encoding="utf-8") as handle:
            for n, row in enumerate(sample):
                turn = {"role": "customer", "text": row["text"], "intent": row["category"]}
                handle.write(json.dumps({"conversation_id": f"b77-{n}", "turns": [turn]}) + "\n")
        run = work / "run"
        run_replay(ReplayOptions(input=str(log), out=run, bot=str(base), progress=False), warn=lambda _: None)
        results = list(read_results(run))
        phases["replay"] = time.perf_counter() - started - sum(phases.values())
        gold = {key(r.text): r.gold_intent or "" for r in results}
        baseline = accuracy(base, encoder, test)

        queue_csv = work / "queue.csv"
        export(ExportOptions(out=queue_csv, bot=str(base), from_run=run, limit=args.top), encoder=encoder)
        with queue_csv.open(newline="", encoding="utf-8") as handle:
            queue_rows = list(csv.DictReader(handle))
        labelled(queue_rows, gold, intents, queue_csv)
        phases["baseline_and_export"] = time.perf_counter() - started - sum(phases.values())
        queue = trial(base, work, "queue", queue_csv, encoder, test)
        # The same rows without their `similar` messages: how much of the gain is the grouping's extra examples.
        rows_only = work / "queue_rows_only.csv"
        labelled([{**row, "similar": ""} for row in queue_rows], gold, intents, rows_only)
        alone = trial(base, work, "queue_rows_only", rows_only, encoder, test)
        phases["queue_trial"] = time.perf_counter() - started - sum(phases.values())

        randoms = []
        for seed in [int(s) for s in args.seeds.split(",")]:
            picked = random.Random(seed).sample(results, args.top)
            path = work / f"random{seed}.csv"
            labelled([{"text": r.text} for r in picked], gold, intents, path)
            randoms.append({"seed": seed, **trial(base, work, f"random{seed}", path, encoder, test)})
        fallback_rate = float(np.mean([r.source == "fallback" for r in results]))

    queue_gain = queue["accuracy"] - baseline
    random_gain = float(np.mean([r["accuracy"] for r in randoms])) - baseline
    print(
        json.dumps(
            {
                "benchmark": "review_queue_loop",
                "sample": args.sample,
                "top": args.top,
                "sample_fallback_rate": round(fallback_rate, 4),
                "banking77_test_n": len(test),
                "baseline_accuracy": round(baseline, 4),
                "queue": {**queue, "accuracy": round(queue["accuracy"], 4), "gain": round(queue_gain, 4)},
                "queue_rows_only": {
                    **alone,
                    "accuracy": round(alone["accuracy"], 4),
                    "gain": round(alone["accuracy"] - baseline, 4),
                },
                "random": [{**r, "accuracy": round(r["accuracy"], 4)} for r in randoms],
                "random_mean_gain": round(random_gain, 4),
                "gain_ratio": round(queue_gain / random_gain, 2) if random_gain > 0 else None,
                "seconds": round(time.perf_counter() - started, 1),
                "phases_s": {name: round(value, 1) for name, value in phases.items()},
                **machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
