"""Masking personal data: the rules on their own, then through `Agent` into a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import Agent
from agent.config import PrivacyConfig
from agent.pipeline.privacy import Masker, luhn_valid

MASKER = Masker(PrivacyConfig())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111 ok", "my card is [card] ok"),
        ("card 5500-0000-0000-0004", "card [card]"),
        ("amex 378282246310005", "amex [card]"),  # 15 digits
        ("write to ann.lee+bank@example.co.uk please", "write to [email] please"),
        ("call me on +44 20 7946 0958", "call me on [phone]"),
        ("or (555) 123-4567 after six", "or [phone] after six"),
        ("my number is 0044 20 7946 0958", "my number is [phone]"),
    ],
)
def test_masks_personal_data(text: str, expected: str) -> None:
    assert MASKER.mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails the checksum",  # not Luhn-valid: not a card number
        "I paid EUR 10,000 on 2026-11-23",  # amounts and dates stay
        "order 1234 5678 arrived",  # 8 digits: too short for a phone number
        "a run of 12345678901234567890123 digits",  # too long for a card, too long for a phone
        "my plus card costs EUR 4.99",
    ],
)
def test_leaves_other_numbers_alone(text: str) -> None:
    assert MASKER.mask(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")


def test_each_kind_can_be_switched_off() -> None:
    text = "4111111111111111 ann@example.com +44 20 7946 0958"
    assert Masker(PrivacyConfig(mask_cards=False)).mask(text) == "4111111111111111 [email] [phone]"
    assert Masker(PrivacyConfig(mask_emails=False)).mask(text) == "[card] ann@example.com [phone]"
    assert Masker(PrivacyConfig(mask_phones=False)).mask(text) == "[card] [email] +44 20 7946 0958"
    off = Masker(PrivacyConfig(mask_cards=False, mask_emails=False, mask_phones=False))
    assert off.mask(text) == text and not off.active


def test_found_lists_what_was_masked() -> None:
    assert MASKER.found("mail ann@example.com or call +44 20 7946 0958") == [
        ("ann@example.com", "[email]"),
        ("+44 20 7946 0958", "[phone]"),
    ]


def test_store_holds_masked_text_but_reply_is_whole(demo_agent: Agent) -> None:
    message = "my card 4111 1111 1111 1111 was stolen, email me at ann@example.com or call +44 20 7946 0958"
    reply = demo_agent.respond("pii", message)
    assert reply.source in {"faq", "template", "ask"}  # answered from the original words
    stored = demo_agent.conversation("pii")
    assert stored is not None
    customer, bot = stored.turns[0], stored.turns[1]
    assert customer.text == "my card [card] was stolen, email me at [email] or call [phone]"
    assert bot.text == reply.text  # the bank's own words (its phone number included) are kept
    # Everything kept: texts, traces, state (not the timestamps, whose digits could read "4111" by chance).
    kept = [turn.text + (turn.trace.model_dump_json() if turn.trace else "") for turn in stored.turns]
    everything = " ".join(kept) + repr(demo_agent.store.load_states(["pii"]))
    for secret in ("4111", "ann@example.com", "7946"):
        assert secret not in everything


def test_reply_repeating_customer_data_is_masked_in_store(demo_agent: Agent, tmp_path: Path) -> None:
    masker = demo_agent.masker
    reply = demo_agent.respond("echo", "what is my card limit")
    echoed = reply.model_copy(update={"text": "We will write to ann@example.com."})
    assert masker.mask_reply(echoed, "mail ann@example.com").text == "We will write to [email]."
    assert masker.mask_reply(echoed, "no personal data here").text == echoed.text
