"""Arguments and dispatch of `python -m agent test` (wired into agent/cli.py; light, so --help is instant)."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `python -m agent test`."""
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="test files (default: the bot folder's dialogs/tests/*.yaml)"
    )
    parser.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    parser.add_argument("--junit", default=None, metavar="OUT.xml", help="also write the results as JUnit XML")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    parser.add_argument("--no-decoder", action="store_true", help="leave the decoder out even when bot.yaml enables it")


def run(args: argparse.Namespace) -> int:
    """Play the tests; exit status 0 when all pass, 1 when any fails (a bad file raises: status 2)."""
    from agent.eval.convtests import format_report, run_tests

    played = run_tests(args.bot, args.files, decoder=not args.no_decoder, progress=not args.json)
    if args.junit:
        from agent.eval.junit import write_junit

        write_junit(played, args.junit)
    print(json.dumps(played.as_dict()) if args.json else format_report(played))
    return 0 if played.passed else 1
