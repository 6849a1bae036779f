"""Intent discovery on CLINC150: do intents a bot was never taught come back as clusters?

A bot is built from CLINC150's train split without 15 of its 150 intents (LEFT_OUT: every
10th intent in sorted order, starting with the first), at most `--cap` rows per intent
(`init`, `import --cap`, `train` in a temporary folder), and `discover` runs on every
message of the val split (all 150 intents and oos). Reported:

- found: left-out intents that some proposed cluster is >= 80 % made of (purity over the
  cluster's distinct messages, whatever their label: oos and covered intents count against it)
- nmi: sklearn's normalized_mutual_info_score of the proposals against the gold labels over
  the left-out intents' val messages; a message in no proposal (covered by an existing intent,
  a near-duplicate of an earlier one, or left unclustered) is in one group, -1
  (`nmi_singletons`: each such message its own group instead; `nmi_clustered`: only the
  messages in a proposal)
- other_confidences: the same with `discover --confidence C` for each of `--confidences`
  (a message counts as covered only when its intent reaches C, not bot.yaml's intents.confident)
- clustering_only: the same figures when only the left-out intents' val messages are clustered,
  with no bot deciding what is covered (what intent-discovery papers measure)

`--tune` chooses the distance threshold on the TRAIN split instead, with 15 other intents
(TUNING: every 10th intent starting with the sixth) mixed with train's oos rows, clustered
directly (no bot): the threshold that finds the most of them, then the highest NMI.

    python -m bench.intent_discovery [--cap 50] [--threshold T] [--confidences 0.9,0.99]
    python -m bench.intent_discovery --tune [--thresholds 0.4,0.45,...]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from sklearn.metrics import normalized_mutual_info_score

from agent.bot.schemas import OOS
from agent.cli import main as cli
from agent.config import EncoderConfig
from agent.discover.clusters import DISTANCE_THRESHOLD, Clustering, propose
from agent.discover.command import discover
from agent.steps.encoder import Encoder
from bench.common import machine, read_rows

PURITY = 0.8
MIN_SIZE = 5


def intents_of(rows: list[dict[str, str]]) -> list[str]:
    return sorted({row["label"] for row in rows} - {OOS})


def scores(clustering: Clustering, gold: dict[str, str], targets: set[str], evaluated: list[str]) -> dict[str, object]:
    """found / purity / NMI of `clustering` against `gold` (text -> label) for the `targets` intents."""
    cluster_of = {text: int(label) for text, label in zip(clustering.texts, clustering.labels, strict=True)}
    found: dict[str, str] = {}  # left-out intent -> name of the cluster that found it
    pure = 0
    for index, proposal in enumerate(clustering.proposals):
        members = [gold.get(t, "?") for t, c in cluster_of.items() if c == index]
        label, count = Counter(members).most_common(1)[0]
        if count >= PURITY * len(members):
            pure += 1
            if label in targets:
                found.setdefault(label, proposal.name)
    truth = [gold[text] for text in evaluated]
    predicted = [cluster_of.get(text, -1) for text in evaluated]
    singletons = [p if p >= 0 else -(n + 2) for n, p in enumerate(predicted)]
    clustered = [(t, p) for t, p in zip(truth, predicted, strict=True) if p >= 0]
    return {
        "found": len(found),
        "of": len(targets),
        "found_as": dict(sorted(found.items())),
        "missed": sorted(targets - set(found)),
        "proposals": len(clustering.proposals),
        "pure_proposals": pure,
        "nmi": round(normalized_mutual_info_score(truth, predicted), 4),
        "nmi_singletons": round(normalized_mutual_info_score(truth, singletons), 4),
        "nmi_clustered": round(normalized_mutual_info_score(*zip(*clustered, strict=True)), 4) if clustered else None,
        "evaluated_messages": len(evaluated),
        "evaluated_in_a_proposal": len(clustered),
    }


def tune(thresholds: list[float]) -> dict[str, object]:
    """Cluster TUNING intents' train rows with train's oos rows at each threshold; the best one."""
    rows = read_rows("clinc150/train.csv")
    tuning = set(intents_of(rows)[5::10])
    pool = [row for row in rows if row["label"] in tuning or row["label"] == OOS]
    texts = [row["text"] for row in pool]
    gold = {row["text"]: row["label"] for row in pool}
    vectors = Encoder(EncoderConfig()).encode(texts, progress=True)
    evaluated = [row["text"] for row in pool if row["label"] in tuning]
    grid = []
    for threshold in thresholds:
        clustering = propose(texts, vectors, set(), min_size=MIN_SIZE, max_intents=None, threshold=threshold)
        result = scores(clustering, gold, tuning, evaluated)
        grid.append({"threshold": threshold, **{k: result[k] for k in ("found", "proposals", "pure_proposals", "nmi")}})
        print(json.dumps(grid[-1]), file=sys.stderr)
    best = max(grid, key=lambda g: (g["found"], g["nmi"]))
    return {"split": "clinc150/train.csv", "tuning_intents": sorted(tuning), "grid": grid, "chosen": best}


def evaluate(cap: int, threshold: float, confidences: list[float | None]) -> dict[str, object]:
    train = read_rows("clinc150/train.csv")
    val = read_rows("clinc150/val.csv")
    left_out = set(intents_of(train)[::10])
    kept: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="bench-discover-") as tmp:
        folder = Path(tmp)
        rows_csv, log_csv, bot = folder / "rows.csv", folder / "val.csv", folder / "bot"
        with rows_csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            for row in train:
                if row["label"] not in left_out and kept[row["label"]] < cap:
                    kept[row["label"]] += 1
                    writer.writerow([row["text"], row["label"]])
        with log_csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text"])
            writer.writerows([row["text"]] for row in val)
        for argv in (["init", str(bot)], ["import", str(rows_csv), "--bot", str(bot), "--cap", str(cap)]):
            with contextlib.redirect_stdout(sys.stderr):  # stdout is the JSON report alone
                if cli(argv) != 0:
                    raise SystemExit(f"`{' '.join(argv)}` failed")
        runs = [
            discover(
                log_csv,
                bot,
                folder / "draft.csv",
                min_size=MIN_SIZE,
                max_intents=None,
                threshold=threshold,
                confidence=confidence,
                progress=True,
            )
            for confidence in confidences
        ]
    gold = {row["text"]: row["label"] for row in val}
    evaluated = [row["text"] for row in val if row["label"] in left_out]
    result = runs[0]
    uncovered = Counter(gold[t] for t in result.uncovered)
    # The clustering alone, as intent-discovery papers measure it: every left-out val message, no bot filtering.
    alone = propose(
        evaluated,
        Encoder(EncoderConfig()).encode(evaluated),
        set(),
        min_size=MIN_SIZE,
        max_intents=None,
        threshold=threshold,
    )
    return {
        "bot": f"clinc150 train without {len(left_out)} intents, <= {cap} rows per intent ({sum(kept.values())} rows)",
        "left_out": sorted(left_out),
        "log": f"clinc150/val.csv, all {len(val)} messages",
        "threshold": threshold,
        "min_size": MIN_SIZE,
        "messages_read": result.read,
        "uncovered": len(result.uncovered),
        "uncovered_left_out": sum(uncovered[label] for label in left_out),
        "uncovered_oos": uncovered[OOS],
        "uncovered_known_intents": sum(n for label, n in uncovered.items() if label not in left_out and label != OOS),
        "unclustered": result.clustering.unclustered,
        **scores(result.clustering, gold, left_out, evaluated),
        "names": [p.name for p in result.clustering.proposals],
        "other_confidences": [
            {
                "confidence": run.confident,
                "uncovered": len(run.uncovered),
                "uncovered_left_out": sum(gold[t] in left_out for t in run.uncovered),
                **scores(run.clustering, gold, left_out, evaluated),
            }
            for run in runs[1:]
        ],
        "clustering_only": {
            "messages": "the left-out intents' val messages alone (no coverage filter)",
            **scores(alone, gold, left_out, evaluated),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="choose the threshold on CLINC150 train")
    parser.add_argument("--thresholds", default="0.4,0.45,0.5,0.55,0.6,0.65,0.7,0.75,0.8")
    parser.add_argument("--threshold", type=float, default=DISTANCE_THRESHOLD, help="the threshold evaluated")
    parser.add_argument(
        "--confidences", default="", help="also run discover with these --confidence values (comma-separated)"
    )
    parser.add_argument("--cap", type=int, default=50, help="most train rows per intent the bot learns")
    args = parser.parse_args()
    if args.tune:
        report = tune([float(t) for t in args.thresholds.split(",") if t])
    else:
        others = [float(c) for c in args.confidences.split(",") if c]
        report = evaluate(args.cap, args.threshold, [None, *others])
    print(json.dumps({"benchmark": "intent_discovery", **report, "machine": machine()}, indent=1))


if __name__ == "__main__":
    main()
