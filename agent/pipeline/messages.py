"""Cleaning and checking a customer's message before any step sees it."""

from __future__ import annotations

import re
import unicodedata

from agent.exceptions import MessageError

# C0/C1 control characters and the DEL byte; newlines and tabs become spaces too.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b\u2028\u2029\ufeff]")
SPACES = re.compile(r"\s+")
MAX_SESSION_ID = 128


def clean_message(text: object, max_chars: int) -> str:
    """The message with control characters removed and spaces collapsed; raises MessageError if unusable."""
    if not isinstance(text, str):
        raise MessageError(f"A message must be text, got {type(text).__name__}.")
    if len(text) > max_chars:
        raise MessageError(
            f"Message is {len(text):,} characters; the limit is {max_chars:,} (bot.yaml: limits.max_message_chars)."
        )
    cleaned = SPACES.sub(" ", CONTROL.sub(" ", unicodedata.normalize("NFC", text))).strip()
    if not cleaned:
        raise MessageError("Message is empty (nothing left after removing whitespace and control characters).")
    return cleaned


def check_session_id(session_id: object) -> str:
    """A session id is 1-128 printable characters."""
    if not isinstance(session_id, str) or not session_id.strip():
        raise MessageError("Session id must be a non-empty string.")
    if len(session_id) > MAX_SESSION_ID or CONTROL.search(session_id):
        raise MessageError(f"Session id must be at most {MAX_SESSION_ID} printable characters (got {len(session_id)}).")
    return session_id
