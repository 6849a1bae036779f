"""The `replay` sub-command's arguments, and turning them into a run (kept light: no heavy imports here)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.replay.runner import DEFAULT_BATCH_SIZE


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define `python -m agent replay ...` on `parser`."""
    parser.add_argument(
        "input", metavar="INPUT", help="a .jsonl or .csv log, 'store' (the bot's store) or a database URL"
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for results.jsonl, report.json, report.html")
    parser.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    parser.add_argument("--limit", type=int, default=None, help="replay only the first N conversations of the log")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted replay in --out")
    parser.add_argument(
        "--compare", type=Path, default=None, metavar="PREVIOUS_DIR", help="list turns that changed since that replay"
    )
    parser.add_argument("--engine", choices=["local", "ray"], default="local", help="where to run (default: local)")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers, one bot each (default: 2)")
    parser.add_argument("--ray-address", default=None, help="an existing Ray cluster (default: start a local one)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"conversations in flight per batched step (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument("--ids", default=None, help="INPUT store: comma-separated conversation ids")
    parser.add_argument("--since", default=None, help="INPUT store: conversations started at or after this ISO date")
    parser.add_argument("--until", default=None, help="INPUT store: conversations started before this ISO date")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs and CI)")


def run(args: argparse.Namespace) -> int:
    """Run the replay the arguments describe; exit status 0, or 130 when interrupted."""
    from agent.replay.command import ReplayOptions, run_replay
    from agent.replay.stored import parse_date

    options = ReplayOptions(
        input=args.input,
        out=args.out,
        bot=args.bot,
        limit=args.limit,
        resume=args.resume,
        compare=args.compare,
        engine=args.engine,
        workers=args.workers,
        batch_size=args.batch_size,
        ray_address=args.ray_address,
        ids=[part.strip() for part in args.ids.split(",") if part.strip()] if args.ids else None,
        since=parse_date(args.since, "--since") if args.since else None,
        until=parse_date(args.until, "--until") if args.until else None,
        progress=not args.no_progress,
    )
    outcome = run_replay(options)
    stats = outcome.stats
    if stats.interrupted:
        print(
            f"interrupted: {stats.conversations:,} conversation(s) ({stats.turns:,} turns) of this run are saved in "
            f"{args.out / 'results.jsonl'}; run the same command with --resume to continue.",
            file=sys.stderr,
        )
        return 130
    report = outcome.report or {}
    counts, intents, rates = report.get("counts", {}), report.get("intents", {}), report.get("rates", {})
    accuracy = intents.get("accuracy")
    print(
        f"replayed {stats.conversations:,} conversation(s), {stats.turns:,} turns in {stats.seconds:.1f} s "
        f"({stats.turns_per_second:.1f} turns/s); {outcome.skipped_already_done:,} already done; "
        f"{len(outcome.problems)} skipped as malformed",
        file=sys.stderr,
    )
    print(
        f"total {counts.get('customer_turns', 0):,} turns: intent accuracy "
        f"{'n/a' if accuracy is None else f'{accuracy:.1%}'} on {intents.get('labelled_turns', 0):,} labelled, "
        f"fallback {rates.get('fallback', 0):.1%}, handoff {rates.get('handoff', 0):.1%}",
        file=sys.stderr,
    )
    if "changes" in report:
        changes = report["changes"]
        print(
            f"compared with {changes['previous']}: {changes['regressions']} regression(s), "
            f"{changes['improvements']} improvement(s), {changes['other_changes']} other change(s)",
            file=sys.stderr,
        )
    for path in outcome.report_paths:
        print(path)
    return 0
