"""The web chat widget: its static files and the public settings it reads.

GET /widget             a page to try the widget (`/widget?key=WIDGET_KEY`)
GET /widget.js          the embed: `<script src="https://HOST/widget.js" data-key="site-key" defer></script>`
GET /widget.css         its styles (widget.js loads them itself)
GET /v1/widget/config   title, colours, greeting and the limits the widget needs (no key: nothing secret)

The files live in agent/http/static/ (package data: plain JavaScript, CSS and HTML, no
build step). They are read once when the router is built and served with an ETag, so a
browser revalidates cheaply and picks up a new version after an upgrade. Everything the
widget does after loading goes through the public conversation API with a widget key
and then the conversation's token (see README, "Put the bot on your site").
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from agent.config import BotConfig
from agent.exceptions import ConfigError

FEEDBACK_PATH = "/v1/conversations/{conversation_id}/feedback"  # the route the thumbs post to
# The /widget page loads only its own files and talks only to this server.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
CACHE = "public, max-age=300, must-revalidate"  # five minutes, then a cheap 304 check


class WidgetConfigOut(BaseModel):
    """What the widget shows and enforces before it sends anything (bot.yaml `widget:`, `persona`, `limits`)."""

    title: str = Field(description="header title: bot.yaml widget.title, or the bot's name")
    primary_color: str = Field(description="CSS hex colour of the header, launcher and customer messages")
    text_on_primary: str = Field(description="#ffffff or #111111, whichever reads better on primary_color")
    bot_bubble_color: str
    text_on_bot_bubble: str
    position: Literal["bottom-right", "bottom-left"]
    placeholder: str
    start_open: bool
    greeting: str = Field(description="the bot's greeting (persona.greeting)")
    handoff_notice: str = Field(description="what the widget shows once a person takes over")
    max_message_chars: int = Field(description="longest message accepted (limits.max_message_chars)")
    feedback: bool = Field(description=f"true when POST {FEEDBACK_PATH} exists: the widget shows thumbs")


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def read(cls, name: str, media_type: str, replacements: dict[str, str] | None = None) -> _Asset:
        try:
            text = resources.files("agent.http").joinpath("static", name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            # A broken install (package data left out), not a user mistake: say which file is missing.
            missing = f"the widget file agent/http/static/{name} is missing from this install ({exc})"
            raise ConfigError(missing) from None
        for marker, value in (replacements or {}).items():
            text = text.replace(marker, value)
        body = text.encode("utf-8")
        return cls(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')

    def response(self, request: Request, headers: dict[str, str] | None = None) -> Response:
        common = {"ETag": self.etag, "Cache-Control": CACHE, "X-Content-Type-Options": "nosniff", **(headers or {})}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=common)
        return Response(self.body, media_type=self.media_type, headers=common)


def contrast_text(background: str) -> str:
    """Black or white text, whichever has the higher WCAG contrast ratio on `background` (#rgb or #rrggbb)."""
    hex_digits = background.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # Contrast with white is 1.05 / (L + 0.05); with #111111 (L ~ 0.0056) it is (L + 0.05) / 0.0556.
    return "#ffffff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.0556 else "#111111"


def widget_settings(config: BotConfig, feedback: bool) -> WidgetConfigOut:
    """The public widget settings of a bot."""
    widget = config.widget
    return WidgetConfigOut(
        title=widget.title or config.name,
        primary_color=widget.primary_color,
        text_on_primary=contrast_text(widget.primary_color),
        bot_bubble_color=widget.bot_bubble_color,
        text_on_bot_bubble=contrast_text(widget.bot_bubble_color),
        position=widget.position,
        placeholder=widget.placeholder,
        start_open=widget.start_open,
        greeting=config.persona.greeting,
        handoff_notice="A person from our team will reply here.",
        max_message_chars=config.limits.max_message_chars,
        feedback=feedback,
    )


def build_widget_router(config: BotConfig, feedback: bool = False) -> APIRouter:
    """The widget's routes for one bot; its files are read here, once. `feedback`: the app serves
    POST FEEDBACK_PATH (agent/http/routes.py), so the widget shows thumbs under replies."""
    router = APIRouter(tags=["widget"])
    title = html.escape(config.widget.title or config.name)
    page = _Asset.read("widget.html", "text/html; charset=utf-8", {"__TITLE__": title})
    script = _Asset.read("widget.js", "text/javascript; charset=utf-8")
    styles = _Asset.read("widget.css", "text/css; charset=utf-8")

    @router.get("/widget", include_in_schema=False)
    async def widget_page(request: Request) -> Response:
        return page.response(request, {"Content-Security-Policy": PAGE_POLICY, "Referrer-Policy": "no-referrer"})

    # Loaded by other sites' pages: the script and its styles must be readable from any origin.
    @router.get("/widget.js", include_in_schema=False)
    async def widget_script(request: Request) -> Response:
        return script.response(request, {"Cross-Origin-Resource-Policy": "cross-origin"})

    @router.get("/widget.css", include_in_schema=False)
    async def widget_styles(request: Request) -> Response:
        return styles.response(request, {"Cross-Origin-Resource-Policy": "cross-origin"})

    @router.get(
        "/v1/widget/config", response_model=WidgetConfigOut, summary="The chat widget's public settings (no key)"
    )
    async def widget_config(request: Request) -> WidgetConfigOut:
        return widget_settings(config, feedback)

    return router
