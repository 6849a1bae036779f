"""Message cleaning: control characters go, limits are enforced with a clear message."""

from __future__ import annotations

import pytest

from agent.exceptions import MessageError
from agent.pipeline.messages import check_session_id, clean_message


def test_control_characters_and_spaces() -> None:
    assert clean_message("  hi\x00 there\x1b[31m\n\tnow\u200b ", 100) == "hi there [31m now"


def test_other_scripts_and_emoji_survive() -> None:
    text = "Моя карта не работает 😡 カード"
    assert clean_message(text, 100) == text


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01\n"])
def test_empty(text: str) -> None:
    with pytest.raises(MessageError, match="empty"):
        clean_message(text, 100)


def test_too_long_names_the_limit() -> None:
    with pytest.raises(MessageError, match=r"102,400 characters; the limit is 2,000 .*max_message_chars"):
        clean_message("a" * 102_400, 2000)


def test_not_text() -> None:
    with pytest.raises(MessageError, match="must be text"):
        clean_message(None, 10)


@pytest.mark.parametrize("bad", ["", "x" * 129, "a\x00b", None])
def test_bad_session_ids(bad: object) -> None:
    with pytest.raises(MessageError):
        check_session_id(bad)
