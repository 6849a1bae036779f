"""The `discover` sub-command's arguments (kept light: the encoder and scikit-learn load only when it runs).

python -m agent discover LOG --bot DIR --out draft.csv [--min-size N] [--max-intents K]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agent.exceptions import DatasetError

DEFAULT_MIN_SIZE = 5
DEFAULT_MAX_INTENTS = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define `python -m agent discover ...` on `parser`."""
    parser.add_argument(
        "log", metavar="LOG", help="a .jsonl/.csv conversation log (customer turns), or a .csv/.jsonl/.txt of messages"
    )
    parser.add_argument("--bot", default=".", help="the trained bot whose intents count as covered (default: .)")
    parser.add_argument(
        "--out", required=True, type=Path, help="the draft to write: a .csv or .jsonl that `import` reads"
    )
    parser.add_argument(
        "--min-size",
        type=int,
        default=DEFAULT_MIN_SIZE,
        help=f"fewest distinct messages a proposed intent has (default: {DEFAULT_MIN_SIZE})",
    )
    parser.add_argument(
        "--max-intents",
        type=int,
        default=DEFAULT_MAX_INTENTS,
        help=f"most intents proposed, the largest clusters (default: {DEFAULT_MAX_INTENTS})",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="cosine distance at which clusters stop merging (default: the value tuned on CLINC150 train)",
    )
    parser.add_argument(
        "--confidence",
        type=float,
        default=None,
        help="a message is covered when its intent reaches this confidence (default: bot.yaml intents.confident)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (for logs and CI)")


def run(args: argparse.Namespace) -> int:
    """Check the arguments, then discover; every mistake is one line before anything is written."""
    for option in ("min_size", "max_intents"):
        if getattr(args, option) < 1:
            raise DatasetError(f"--{option.replace('_', '-')} {getattr(args, option)}: give a whole number >= 1.")
    if args.threshold is not None and not 0.0 < args.threshold < 2.0:
        raise DatasetError(f"--threshold {args.threshold}: give a cosine distance between 0 and 2.")
    if args.confidence is not None and not 0.0 <= args.confidence <= 1.0:
        raise DatasetError(f"--confidence {args.confidence}: give a probability between 0 and 1.")
    from agent.discover.command import discover

    for line in discover(
        args.log,
        args.bot,
        args.out,
        min_size=args.min_size,
        max_intents=args.max_intents,
        threshold=args.threshold,
        confidence=args.confidence,
        progress=not args.no_progress,
    ).lines():
        print(line)
    return 0
