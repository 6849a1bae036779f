"""The terminal chat app (Textual): `python tui.py [--bot DIR]`.

    from agent.tui import ChatApp
    ChatApp("path/to/bot").run()

Modules, one concept each: `loader` (start a bot with progress events),
`loading` (the progress screen), `chat` (the main screen), `transcript` (the
conversation widget), `trace` / `trace_panel` (why a reply was given),
`sessions` (past conversations), `export` (JSONL export), `errors` (why the bot
could not start), `app` (the screens wired together).
"""

from agent.tui.app import ChatApp

__all__ = ["ChatApp"]
