"""`python tui.py [--bot DIR]`: the terminal chat app, the same as `python -m agent tui [--bot DIR]`."""

import sys

from agent.cli import main

if __name__ == "__main__":
    sys.exit(main(["tui", *sys.argv[1:]]))
