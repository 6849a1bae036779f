"""The `review` sub-commands' arguments (kept light: the heavy modules are imported when one runs)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define `python -m agent review export|apply ...` on `parser`."""
    sub = parser.add_subparsers(dest="review_command", required=True)
    export = sub.add_parser("export", help="the messages most worth a label, ranked, as a CSV to fill in")
    export.add_argument("--bot", default=".", help="bot folder (default: current folder)")
    export.add_argument("--from-store", action="store_true", help="read the bot's store (bot.yaml store.url)")
    export.add_argument("--store", default=None, help="with --from-store: this store URL instead of bot.yaml's")
    export.add_argument(
        "--since", default=None, help="with --from-store: conversations started at or after this ISO date"
    )
    export.add_argument("--from-run", type=Path, default=None, metavar="RUN_DIR", help="a replay's --out folder")
    export.add_argument("--out", type=Path, required=True, help="the CSV to write (review.csv)")
    export.add_argument("--limit", type=int, default=200, help="most rows (default: 200)")

    apply = sub.add_parser("apply", help="add a review file's labelled rows to the bot as examples")
    apply.add_argument("source", type=Path, help="the review CSV, its `label` column filled")
    apply.add_argument("--bot", default=".", help="bot folder (default: current folder)")
    apply.add_argument("--dry-run", action="store_true", help="print what would be added; write nothing")


def run(args: argparse.Namespace) -> int:
    """Run `review export` or `review apply`."""
    if args.review_command == "apply":
        from agent.review.apply import apply_review

        applied = apply_review(args.source, args.bot, dry_run=args.dry_run)
        for line in applied.lines:
            print(line)
        return 0
    from agent.replay.stored import parse_date
    from agent.review.export import ExportOptions, export

    options = ExportOptions(
        out=args.out,
        bot=args.bot,
        from_store=args.from_store,
        store=args.store,
        since=parse_date(args.since, "--since") if args.since else None,
        from_run=args.from_run,
        limit=args.limit,
    )
    done = export(options)
    rows = done.rows
    covered = sum(r.count for r in rows)
    print(
        f"wrote {len(rows)} rows to {args.out}, standing for {covered:,} of the {done.messages:,} messages "
        f"of {done.source}"
    )
    where = "" if args.bot == "." else f" --bot {args.bot}"
    print(
        f"next: fill the label column (an intent, oos, or a new intent's name), then "
        f"python -m agent review apply {args.out}{where}"
    )
    return 0
