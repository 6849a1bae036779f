"""The main screen as the terminal shows it: a text snapshot at 100x30, and contrast in both themes.

The snapshot is the plain text of every row (layout, wording, what the trace
shows first) with numbers, bar lengths and runs of spaces masked, since timings
change from run to run. To
accept an intended change: `TUI_SNAPSHOT_UPDATE=1 python -m pytest tests/tui/test_tui_screen.py`,
then review the diff of tests/tui/snapshots/ like code. (pytest-textual-snapshot
would pin pytest below 9 through syrupy 4.8, so this one is plain text.)
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from rich.console import Console
from rich.segment import Segment
from tui_helpers import app_factory, run, screen_text, send, started

from agent.tui.app import DARK, LIGHT, ChatApp

SNAPSHOTS = Path(__file__).parent / "snapshots"
QUESTION = "how much does it cost to withdraw cash abroad?"
MIN_CONTRAST = 4.5  # WCAG AA for normal text


def _normalise(text: str) -> str:
    """Mask what changes between runs: numbers (timings), bar lengths, and the padding they shift."""
    lines = []
    for line in text.splitlines():
        line = re.sub(r"\d+", "#", line)
        line = re.sub(r"[█░]+", "▮", line)
        lines.append(re.sub(r" {2,}", " ", line).rstrip())
    return "\n".join(lines) + "\n"


def test_main_screen_snapshot(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> str:
        app = app_factory(demo_bot_dir, tmp_path)()
        async with started(app, (100, 30)) as pilot:
            await send(pilot, QUESTION)
            app.save_screenshot("main_screen.svg", str(tmp_path))  # for a person to look at when it fails
            return screen_text(app)

    shown = _normalise(run(scenario()))
    expected_file = SNAPSHOTS / "main_screen_100x30.txt"
    if os.environ.get("TUI_SNAPSHOT_UPDATE") == "1" or not expected_file.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        expected_file.write_text(shown, encoding="utf-8")
        assert os.environ.get("TUI_SNAPSHOT_UPDATE") == "1", f"snapshot {expected_file} was missing: written, review it"
    expected = expected_file.read_text(encoding="utf-8")
    assert shown == expected, f"the main screen changed; screenshot in {tmp_path / 'main_screen.svg'}"


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _worst_text_contrast(app: ChatApp) -> list[tuple[float, str]]:
    """Contrast of every run of text on screen (borders and bars, which hold no letters, left out)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), color_system="truecolor", force_terminal=True)
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    found = []
    for segment in console.render(update):
        assert isinstance(segment, Segment)
        if segment.control or segment.style is None or not any(ch.isalnum() for ch in segment.text):
            continue
        fg, bg = segment.style.color, segment.style.bgcolor
        assert fg is not None and bg is not None, f"text without explicit colours: {segment.text!r}"
        ratio = _contrast(fg.get_truecolor(), bg.get_truecolor())
        found.append((round(ratio, 2), segment.text.strip()))
    return sorted(found)


def test_text_is_readable_in_light_and_dark_themes(demo_bot_dir: Path, tmp_path: Path) -> None:
    async def scenario() -> dict[str, list[tuple[float, str]]]:
        app = app_factory(demo_bot_dir, tmp_path)()
        results: dict[str, list[tuple[float, str]]] = {}
        async with started(app, (100, 30)) as pilot:
            screen = app.screen
            await send(pilot, QUESTION)
            await send(pilot, "x" * 2001, type_it=False)  # an error note
            await send(pilot, "I want to talk to a human")  # the handoff banner
            assert screen.status == "handoff"
            for theme in (DARK, LIGHT):
                app.theme = theme
                await pilot.pause()
                await pilot.pause()
                assert app.current_theme.dark == (theme == DARK)
                results[theme] = _worst_text_contrast(app)
            # The theme key works from the chat screen.
            await pilot.press("ctrl+t")
            await pilot.pause()
            assert app.theme == DARK
        return results

    for theme, found in run(scenario()).items():
        texts = " ".join(text for _, text in found)
        assert "Handed over to a person" in texts and "error: Message is" in texts  # all states on screen
        too_faint = [(ratio, text) for ratio, text in found if ratio < MIN_CONTRAST]
        assert not too_faint, f"{theme}: text under {MIN_CONTRAST}:1 contrast: {too_faint[:5]}"
