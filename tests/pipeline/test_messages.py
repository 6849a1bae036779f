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


# Issue 19: direction overrides, embeddings, isolates and marks would redraw the text in an agent's console.
DIRECTION_CONTROLS = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
DIRECTION_CONTROLS += ["\u200e", "\u200f", "\u061c"]


@pytest.mark.parametrize("control", DIRECTION_CONTROLS)
def test_direction_controls_are_removed_not_spaced(control: str) -> None:
    assert clean_message(f"refund to {control}NBAN{control} please", 100) == "refund to NBAN please"
    assert clean_message(f"pay{control}gnp.exe", 100) == "paygnp.exe"


def test_right_to_left_text_itself_stays() -> None:
    text = "\u202bمرحبا لقد فقدت بطاقتي\u202c שלום"
    assert clean_message(text, 100) == "مرحبا لقد فقدت بطاقتي שלום"


def test_a_message_of_direction_controls_only_is_empty() -> None:
    with pytest.raises(MessageError, match="empty"):
        clean_message("\u202e\u2066 \u2069", 100)


@pytest.mark.parametrize("control", ["\u202e", "\u2067", "\u200f"])
def test_session_ids_with_direction_controls_are_refused(control: str) -> None:
    with pytest.raises(MessageError, match="printable"):
        check_session_id(f"abc{control}def")
