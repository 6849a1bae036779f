"""Settings of the web chat widget (`/widget`, `/widget.js`): what it is called, its colours, where it sits.

A site owner can override the title and the colour per page with the script tag's
`data-title` and `data-color`; everything else the widget needs (the greeting, the
message limit) comes from the rest of bot.yaml through `GET /v1/widget/config`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from agent.config.base import _Strict

# A CSS hex colour: #rgb or #rrggbb (no alpha: text on it is chosen black or white by its contrast).
HEX_COLOR = r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$"


def _hex_color(value: object) -> object:
    # Before the pattern check, so the error says what a colour looks like rather than quoting the regex.
    if isinstance(value, str) and not re.match(HEX_COLOR, value):
        raise ValueError(f"{value[:40]!r} is not a CSS hex colour; write it as #rrggbb or #rgb, e.g. '#1f5fbf'")
    return value


HexColor = Annotated[str, BeforeValidator(_hex_color)]


class WidgetConfig(_Strict):
    """The web chat widget served by `python -m agent serve` at /widget.js (embed) and /widget (a page to try it)."""

    # The widget's header title; null: the bot's `name`.
    title: str | None = Field(None, min_length=1, max_length=80)
    # The colour of the header, the launcher button and the customer's own messages, as a CSS hex colour
    # (#1f5fbf or #15b). Text on it is black or white, whichever reads better.
    primary_color: HexColor = Field("#1f5fbf", pattern=HEX_COLOR)
    # The colour of the bot's message bubbles, as a CSS hex colour.
    bot_bubble_color: HexColor = Field("#eef1f5", pattern=HEX_COLOR)
    # The page corner where the launcher button and the chat panel sit (the /widget page shows it inline).
    position: Literal["bottom-right", "bottom-left"] = "bottom-right"
    # The hint inside the empty message box.
    placeholder: str = Field("Type your question", min_length=1, max_length=120)
    # True: the panel opens as soon as the page loads; false: it opens when the customer clicks the launcher.
    start_open: bool = False
