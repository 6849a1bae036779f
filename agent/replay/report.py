"""The replay report: counts, intent accuracy, confusions, answer sources, confidence and latency.

`build_report` reads `results.jsonl` once (streaming) and returns a plain
dict, written as `report.json`; `agent.replay.html` renders the same dict
with plots as `report.html`. With a previous run's folder, the turns whose
intent or source changed are listed too (`agent.replay.compare`).

Latency is each turn's share of its batched call (`timings_ms.total`), the
cost per turn at replay throughput, not the wait a single live customer sees.

The texts the report lists (confusion examples, the slowest turns, the changes)
are masked by the bot's `privacy:` rules when a masker is given, as replay does:
results.jsonl is masked already, but a run written by an older version is not.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.pipeline.privacy import Masker
from agent.replay.compare import compare_runs
from agent.replay.manifest import Manifest
from agent.replay.results import TurnResult, read_results
from agent.replay.scores import Understanding

REPORT_JSON = "report.json"
CONFIDENCE_BINS = 10
TOP_CONFUSIONS = 20
SLOWEST = 10
PERCENTILES = (50, 90, 95, 99)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (NaN when empty)."""
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class _Tally:
    """Everything the report counts, filled one turn at a time."""

    def __init__(self) -> None:
        self.turns = 0
        self.conversations: set[str] = set()
        self.handoff_conversations: set[str] = set()
        self.sources: Counter[str] = Counter()
        self.labelled = 0
        self.correct = 0
        self.per_intent: dict[str, list[int]] = {}  # gold intent -> [support, correct]
        self.confusions: Counter[tuple[str, str]] = Counter()
        self.confusion_example: dict[tuple[str, str], str] = {}
        self.handoffs = 0
        self.decoder_runs = 0
        self.decoder_accepted = 0
        self.confidence = {key: [0] * CONFIDENCE_BINS for key in ("correct", "wrong", "unlabelled")}
        self.latencies: list[float] = []
        self.step_ms: dict[str, float] = {}
        self.slowest: list[tuple[float, int, TurnResult]] = []
        self.understanding = Understanding()

    def add(self, row: TurnResult) -> None:
        self.turns += 1
        self.understanding.add(row)
        self.conversations.add(row.conversation_id)
        self.sources[row.source] += 1
        if row.handoff:
            self.handoffs += 1
            self.handoff_conversations.add(row.conversation_id)
        if row.decoder is not None:
            self.decoder_runs += 1
            self.decoder_accepted += bool(row.decoder.get("accepted"))
        correct = row.correct
        bucket = "unlabelled" if correct is None else ("correct" if correct else "wrong")
        index = min(CONFIDENCE_BINS - 1, max(0, int(row.confidence * CONFIDENCE_BINS)))
        self.confidence[bucket][index] += 1
        if row.gold_intent is not None:
            self.labelled += 1
            support = self.per_intent.setdefault(row.gold_intent, [0, 0])
            support[0] += 1
            if correct:
                self.correct += 1
                support[1] += 1
            else:
                pair = (row.gold_intent, row.intent or "none")
                self.confusions[pair] += 1
                self.confusion_example.setdefault(pair, row.text)
        self.latencies.append(row.latency_ms)
        for step, ms in row.timings_ms.items():
            self.step_ms[step] = self.step_ms.get(step, 0.0) + ms
        entry = (row.latency_ms, -self.turns, row)  # the counter breaks ties, so rows are never compared
        if len(self.slowest) < SLOWEST:
            heapq.heappush(self.slowest, entry)
        elif entry[:2] > self.slowest[0][:2]:
            heapq.heapreplace(self.slowest, entry)


def build_report(
    folder: Path,
    *,
    previous: Path | None = None,
    problems: list[str] | None = None,
    manifest: Manifest | None = None,
    masker: Masker | None = None,
) -> dict[str, Any]:
    """The report of the replay in `folder` (its results.jsonl), optionally compared with `previous`;
    the texts it lists are masked by `masker` when given."""
    mask = masker.mask if masker is not None else _unchanged
    tally = _Tally()
    for row in read_results(folder):
        tally.add(row)
    turns = max(tally.turns, 1)
    problems = problems or []
    report: dict[str, Any] = {
        "run": _run_info(manifest),
        "counts": {
            "conversations": len(tally.conversations),
            "customer_turns": tally.turns,
            "labelled_turns": tally.labelled,
            "skipped_input": len(problems),
        },
        "intents": _intents(tally, mask),
        "rates": {
            "fallback": round(tally.sources.get("fallback", 0) / turns, 4),
            "handoff": round(tally.handoffs / turns, 4),
            "handoff_conversations": round(len(tally.handoff_conversations) / max(len(tally.conversations), 1), 4),
            "ask": round(tally.sources.get("ask", 0) / turns, 4),
            "decoder_accepted": round(tally.decoder_accepted / tally.decoder_runs, 4) if tally.decoder_runs else None,
        },
        "sources": dict(tally.sources.most_common()),
        "confidence_histogram": {
            "edges": [round(i / CONFIDENCE_BINS, 2) for i in range(CONFIDENCE_BINS + 1)],
            **tally.confidence,
        },
        "latency_ms": _latency(tally),
        "slowest_turns": [
            {
                "conversation_id": row.conversation_id,
                "turn": row.turn,
                "text": mask(row.text),
                "latency_ms": row.latency_ms,
                "source": row.source,
                "batch_size": row.batch_size,
            }
            for _, _, row in sorted(tally.slowest, key=lambda e: e[:2], reverse=True)
        ],
        "input_problems": problems[:200],
    }
    if previous is not None:
        report["changes"] = compare_runs(folder, previous, masker)
    return report


def _run_info(manifest: Manifest | None) -> dict[str, Any]:
    if manifest is None:
        return {}
    last = manifest.segments[-1] if manifest.segments else None
    return {
        "bot": manifest.bot,
        "bot_name": manifest.bot_name,
        "input": manifest.input,
        "engine": last.engine if last else None,
        "batch_size": last.batch_size if last else None,
        "started_at": manifest.segments[0].started_at.isoformat() if manifest.segments else None,
        "interrupted": bool(last and last.interrupted),
        **manifest.totals(),
    }


def _unchanged(text: str) -> str:
    return text


def _intents(tally: _Tally, mask: Callable[[str], str]) -> dict[str, Any]:
    per_intent = [
        {"intent": name, "support": support, "correct": ok, "accuracy": round(ok / support, 4)}
        for name, (support, ok) in tally.per_intent.items()
    ]
    per_intent.sort(key=lambda item: (item["accuracy"], -item["support"], item["intent"]))
    scores = tally.understanding.scores()
    return {
        "labelled_turns": tally.labelled,
        "correct": tally.correct,
        "accuracy": round(tally.correct / tally.labelled, 4) if tally.labelled else None,
        # A conversation's first turn alone, and the turns that may need what came before (agent.replay.scores).
        "first_turn_accuracy": scores.first_turn_accuracy,
        "follow_up_accuracy": scores.follow_up_accuracy,
        "in_scope_refused": scores.in_scope_refused,
        "oos_recall": scores.oos_recall,
        "per_intent": per_intent,
        "confusions": [
            {
                "gold": gold,
                "predicted": predicted,
                "count": count,
                "example": mask(tally.confusion_example[(gold, predicted)]),
            }
            for (gold, predicted), count in sorted(tally.confusions.items(), key=lambda kv: (-kv[1], kv[0]))[
                :TOP_CONFUSIONS
            ]
        ],
    }


def _latency(tally: _Tally) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    out: dict[str, Any] = {f"p{q}": round(percentile(ordered, q), 3) if ordered else None for q in PERCENTILES}
    out["max"] = round(ordered[-1], 3) if ordered else None
    out["mean"] = round(sum(ordered) / len(ordered), 3) if ordered else None
    out["per_step_mean"] = {step: round(total / max(tally.turns, 1), 3) for step, total in tally.step_ms.items()}
    out["histogram"] = _log_histogram(ordered)  # the HTML plots this; the raw values stay in results.jsonl
    return out


def _log_histogram(ordered: list[float], bins: int = 30) -> dict[str, list[float]]:
    """Latency counts on log-spaced bins (turn costs span several orders of magnitude)."""
    positive = [v for v in ordered if v > 0]
    if not positive:
        return {"edges": [], "counts": []}
    low, high = math.log10(positive[0]), math.log10(positive[-1])
    if high - low < 1e-9:
        high = low + 1.0
    edges = [10 ** (low + (high - low) * i / bins) for i in range(bins + 1)]
    counts = [0] * bins
    for value in positive:
        index = min(bins - 1, int((math.log10(value) - low) / (high - low) * bins))
        counts[index] += 1
    return {"edges": [round(e, 4) for e in edges], "counts": counts}


def write_report(folder: Path, report: dict[str, Any]) -> Path:
    """Write `report.json` (NaN-free, UTF-8) and return its path."""
    path = folder / REPORT_JSON
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False, allow_nan=False), encoding="utf-8")
    return path
