"""Cleaning and checking a customer's message before any step sees it.

Direction controls (U+202A-U+202E, U+2066-U+2069, U+200E/U+200F, U+061C: agent/bot/text.py)
are removed, so what is stored and shown to agents reads in the order it was typed.
"""

from __future__ import annotations

import re
import unicodedata

from agent.bot.text import DIRECTION_CONTROLS, without_direction_controls
from agent.exceptions import MessageError

# C0/C1 control characters and the DEL byte; newlines and tabs become spaces too.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
SPACES = re.compile(r"\s+")
MAX_SESSION_ID = 128


def clean_message(text: object, max_chars: int) -> str:
    """The message with control characters and direction controls removed and spaces collapsed.

    Raises MessageError if it is not text, too long, or nothing is left.
    """
    if not isinstance(text, str):
        raise MessageError(f"A message must be text, got {type(text).__name__}.")
    if len(text) > max_chars:
        raise MessageError(
            f"Message is {len(text):,} characters; the limit is {max_chars:,} (bot.yaml: limits.max_message_chars)."
        )
    normalised = without_direction_controls(unicodedata.normalize("NFC", text))
    cleaned = SPACES.sub(" ", CONTROL.sub(" ", normalised)).strip()
    if not cleaned:
        raise MessageError(
            "Message is empty (nothing left after removing whitespace, control characters and direction controls)."
        )
    return cleaned


def check_session_id(session_id: object) -> str:
    """A session id is 1-128 printable characters."""
    if not isinstance(session_id, str) or not session_id.strip():
        raise MessageError("Session id must be a non-empty string.")
    if len(session_id) > MAX_SESSION_ID or CONTROL.search(session_id) or DIRECTION_CONTROLS.search(session_id):
        raise MessageError(f"Session id must be at most {MAX_SESSION_ID} printable characters (got {len(session_id)}).")
    return session_id
