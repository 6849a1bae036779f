"""The chat widget's routes: its files, its public settings from bot.yaml, and the package data that ships them.

The widget itself runs in a real browser in test_widget_browser.py; these checks need no bot build.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tinybot import ROOT, write_tiny_bot

from agent.bot.folder import read_bot
from agent.config import BotConfig
from agent.exceptions import ConfigError
from agent.http.widget import build_widget_router, contrast_text

STATIC = ROOT / "agent" / "http" / "static"


def _client(config: BotConfig, *, feedback: bool = False) -> TestClient:
    app = FastAPI()
    app.include_router(build_widget_router(config, feedback=feedback))
    return TestClient(app)


def test_settings_come_from_bot_yaml() -> None:
    config = BotConfig(
        name="Acme helper",
        widget={"primary_color": "#ffd400", "position": "bottom-left", "placeholder": "Ask Acme"},
        limits={"max_message_chars": 500},
    )
    body = _client(config).get("/v1/widget/config").json()
    assert body["title"] == "Acme helper"  # no widget.title: the bot's name
    assert body["primary_color"] == "#ffd400" and body["text_on_primary"] == "#111111"  # dark text on yellow
    assert body["position"] == "bottom-left" and body["placeholder"] == "Ask Acme"
    assert body["greeting"] == "Hello! I'm Acme helper. How can I help?"
    assert body["max_message_chars"] == 500
    assert body["feedback"] is False  # an app without the feedback route: the widget shows no thumbs

    titled = BotConfig(name="Acme helper", widget={"title": "Acme support"})
    assert _client(titled).get("/v1/widget/config").json()["title"] == "Acme support"


def test_feedback_is_offered_once_the_endpoint_exists() -> None:
    assert _client(BotConfig(name="x"), feedback=True).get("/v1/widget/config").json()["feedback"] is True


def test_a_colour_that_is_not_hex_is_one_clear_line(tmp_path: Path) -> None:
    bot = write_tiny_bot(tmp_path / "bot", config={"name": "Tiny", "widget": {"primary_color": "blue"}})
    with pytest.raises(ConfigError) as caught:
        read_bot(bot)
    message = str(caught.value)
    assert "\n" not in message
    assert "widget.primary_color" in message and "'blue' is not a CSS hex colour" in message and "#rrggbb" in message


def test_files_are_served_with_types_and_revalidation() -> None:
    client = _client(BotConfig(name="Shop <b>bot</b>"))
    for path, media in (("/widget.js", "text/javascript"), ("/widget.css", "text/css"), ("/widget", "text/html")):
        response = client.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
        etag = response.headers["etag"]
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    page = client.get("/widget")
    assert "script-src 'self'" in page.headers["content-security-policy"]  # no inline script on the page
    assert "Shop &lt;b&gt;bot&lt;/b&gt;" in page.text and "<b>bot" not in page.text
    assert 'src="/widget.js"' in page.text and client.get("/widget.js").text == (STATIC / "widget.js").read_text()


def test_static_files_are_package_data() -> None:
    """A non-editable install ships agent/http/static/: every file there matches pyproject's package-data."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["agent.http"]
    files = sorted(p.relative_to(STATIC.parent).as_posix() for p in STATIC.iterdir())
    assert {"static/widget.js", "static/widget.css", "static/widget.html"} <= set(files)
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), f"{name} is not package data"


def test_contrast_text_picks_the_readable_one() -> None:
    assert contrast_text("#1f5fbf") == "#ffffff"
    assert contrast_text("#fff") == "#111111"
    assert contrast_text("#eef1f5") == "#111111"
    assert contrast_text("#000000") == "#ffffff"
