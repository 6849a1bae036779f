"""`python tui.py [--bot DIR]`: chat with a bot in the terminal and see why each reply was given.

The app lives in agent/tui/; this file only reads the arguments and runs it.
Exit status 2 (and one line on stderr) when the bot cannot be started.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tui.py", description="Terminal chat with a support bot.")
    parser.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    parser.add_argument("--store", default=None, help="store URL instead of bot.yaml's store.url")
    parser.add_argument("--export-dir", default=".", help="where exported conversations go (default: here)")
    parser.add_argument("--light", action="store_true", help="start with the light theme (Ctrl+T toggles)")
    args = parser.parse_args(argv)

    # Import after parsing so --help is instant (the app pulls in torch).
    from agent.tui.app import DARK, LIGHT, ChatApp

    app = ChatApp(args.bot, store_url=args.store, export_dir=args.export_dir, theme=LIGHT if args.light else DARK)
    app.run()
    code = 0
    if app.error is not None:
        print(f"error: {app.error}", file=sys.stderr)
        code = 2
    if app.load_running:
        # Quit during first-run training: the build thread cannot be interrupted, and waiting for it
        # would keep a blank terminal for up to half a minute. Nothing is lost: the manifest is written last.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    return code


if __name__ == "__main__":
    sys.exit(main())
