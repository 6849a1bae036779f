"""Terminal chat responsiveness: start-up time and Enter-to-answer time in the real Textual app.

Drives `agent.tui.ChatApp` headless with Textual's pilot at 100x30 against the
demo bot and a fresh SQLite store: it waits for the chat screen (models loaded,
build up to date), then sends the README's question followed by the first
Banking77 test messages (read by path), one at a time. For each it measures
the wall time from the Enter key until the reply is in the transcript and its
trace (intent, confidence, source) is in the side panel.

    python -m bench.tui_latency [--bot .] [--turns 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from textual.widgets import Input

from agent.tui.app import ChatApp
from agent.tui.chat import ChatScreen
from bench.common import machine, percentile, read_rows

QUESTION = "how much does it cost to withdraw cash abroad?"


async def measure(bot: str, texts: list[str], store_url: str) -> dict[str, object]:
    app = ChatApp(bot, store_url=store_url, export_dir=tempfile.gettempdir())
    started = time.perf_counter()
    async with app.run_test(size=(100, 30)) as pilot:
        # The chat screen must also have mounted its widgets: right after a first-run build it is pushed first.
        while not isinstance(app.screen, ChatScreen) or not app.screen.query("#message"):
            if app.error is not None:
                raise SystemExit(f"error: {app.error}")
            await pilot.pause(0.02)
        startup_s = time.perf_counter() - started
        screen = app.screen
        box = screen.query_one("#message", Input)
        shown_ms: list[float] = []
        first_answer: dict[str, object] = {}
        for text in texts:
            before = len(screen.transcript.replies)
            box.value = text
            entered = time.perf_counter()
            await pilot.press("enter")
            while len(screen.transcript.replies) == before or screen.trace_panel.section("intent") is None:
                await pilot.pause(0.002)
            shown_ms.append((time.perf_counter() - entered) * 1000)
            if not first_answer:
                first_answer = {
                    "intent": (screen.trace_panel.section("intent") or "").splitlines()[0],
                    "source": (screen.trace_panel.section("answer") or "").split(" ")[0],
                    "enter_to_shown_ms": round(shown_ms[0], 1),
                }
    return {
        "benchmark": "tui_enter_to_answer",
        "turns": len(texts),
        "startup_s": round(startup_s, 2),
        "readme_question": first_answer,
        "enter_to_shown_ms_p50": round(percentile(shown_ms, 50), 1),
        "enter_to_shown_ms_p95": round(percentile(shown_ms, 95), 1),
        "enter_to_shown_ms_max": round(max(shown_ms), 1),
        "terminal": "100x30, headless pilot",
        "store": "sqlite (WAL)",
        **machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    others = [r["text"] for r in read_rows("banking77/test.csv")][: max(0, args.turns - 1)]
    texts = [QUESTION, *others]
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(args.bot, texts, f"sqlite:///{Path(tmp) / 'bench.db'}"))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
