"""Masking personal data: the rules on their own, then through `Agent` into a real store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent import Agent
from agent.config import PrivacyConfig
from agent.exceptions import AgentError
from agent.pipeline.assemble import load_bot
from agent.pipeline.privacy import Masker, luhn_valid
from agent.types import ContextReading, DecoderTrace, EntityMention, Reply

MASKER = Masker(PrivacyConfig())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Cards: any separator, or none; Luhn-valid.
        ("my card is 4111 1111 1111 1111 ok", "my card is [card] ok"),
        ("card 5500-0000-0000-0004", "card [card]"),
        ("card 4111.1111.1111.1111.", "card [card]."),
        ("card 4111/1111/1111/1111 please", "card [card] please"),
        ("amex 378282246310005", "amex [card]"),  # 15 digits
        ("amex 3782 822463 10005", "amex [card]"),  # 4-6-5 grouping
        ("card 4111 1111 1111 1111 2025 expiry", "card [card] 2025 expiry"),  # a number after it stays
        # IBANs: any country, with or without spaces, any case.
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [iban] please"),
        ("send it to DE89370400440532013000.", "send it to [iban]."),
        ("iban: gb82west12345698765432", "iban: [iban]"),
        ("to NO93 8601 1117 947 and FR14 2004 1010 0505 0001 3M02 606", "to [iban] and [iban]"),
        ("GB82 WEST 1234 5698 7654 32 1234", "[iban] 1234"),  # the IBAN ends where its country says
        # E-mail addresses.
        ("write to ann.lee+bank@example.co.uk please", "write to [email] please"),
        # Phone numbers: national (the bot's regions, GB by default) and international.
        ("call me on +44 20 7946 0958", "call me on [phone]"),
        ("my number is 0044 20 7946 0958", "my number is [phone]"),
        ("ring 020 7946 0958 or 07911 123456", "ring [phone] or [phone]"),
        ("my US cell is +1 202-555-0143", "my US cell is [phone]"),
        ("en France +33 6 12 34 56 78", "en France [phone]"),
        # Dates of birth, in the common written forms, after the words that make them one.
        ("I was born on 12/03/1985", "I was born on [dob]"),
        ("dob: 1985-03-12", "dob: [dob]"),
        ("date of birth 12.03.1985", "date of birth [dob]"),
        ("born 12 March 1985, in Leeds", "born [dob], in Leeds"),
        ("my birthday is March 12, 1985", "my birthday is [dob]"),
        ("D.O.B. 3rd of May 1990", "D.O.B. [dob]"),
        # Secrets: what follows the phrase goes, the phrase stays.
        ("my password is hunter2", "my password is [secret]"),
        ("my password is hunter2, can you reset it", "my password is [secret], can you reset it"),
        ("password: letmein", "password: [secret]"),
        ("pin 4821", "pin [secret]"),
        ("my PIN number is 4821 and it fails", "my PIN number is [secret] and it fails"),
        ("cvv 123", "cvv [secret]"),
        ("the security code is 456", "the security code is [secret]"),
        ("passcode: 123456", "passcode: [secret]"),
        ("my memorable word is Rosebud", "my memorable word is [secret]"),
    ],
)
def test_masks_personal_data(text: str, expected: str) -> None:
    assert MASKER.mask(text) == expected
    assert MASKER.mask(expected) == expected  # masked text stays as it is


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails the checksum",  # not Luhn-valid: not a card number
        "ref 1234567812345678 is not a card",  # 16 digits, not Luhn-valid
        "IBAN GB82 WEST 1234 5698 7654 31",  # a wrong check: not an IBAN
        "IBAN XX82 WEST 1234 5698 7654 32",  # no such country
        "I paid EUR 10,000 on 2026-11-23",  # amounts and transaction dates stay
        "£1,234.56 left my account on 12/03/2025 at 10:30",
        "I paid on 12 March 2025 and again on March 14, 2025",
        "order 123456789 and order #98765432101 never arrived",  # order numbers are not phone numbers
        "order 1234 5678 arrived",
        "sort code 12-34-56, account 12345678",
        "a run of 12345678901234567890123 digits",  # too long for a card, too long for a phone
        "my plus card costs EUR 4.99, version 1.2.3",
        "my password is not working",  # no password in it
        "I forgot my password and my PIN",
        "how do I reset my PIN?",
        "I entered my pin 3 times",  # too short for a PIN
        "what is the security code on the back?",
        "I was born in 1985",  # a year alone
        "(555) 123-4567",  # 555 numbers are not in service: libphonenumber finds no valid number
    ],
)
def test_leaves_other_numbers_and_words_alone(text: str) -> None:
    assert MASKER.mask(text) == text


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("79927398713")
    assert not luhn_valid("4111111111111112")


def test_each_kind_can_be_switched_off() -> None:
    text = "4111111111111111 ann@example.com +44 20 7946 0958 GB82WEST12345698765432 pin 4821 born 1/2/1990"
    masked = "[card] [email] [phone] [iban] pin [secret] born [dob]"
    assert Masker(PrivacyConfig()).mask(text) == masked
    for key, clear in [
        ("mask_cards", "4111111111111111"),
        ("mask_emails", "ann@example.com"),
        ("mask_phones", "+44 20 7946 0958"),
        ("mask_ibans", "GB82WEST12345698765432"),
        ("mask_secrets", "4821"),
    ]:
        assert clear in Masker(PrivacyConfig(**{key: False})).mask(text)
    assert "1/2/1990" in Masker(PrivacyConfig(mask_dates="none")).mask(text)
    switches = ("mask_cards", "mask_emails", "mask_phones", "mask_ibans", "mask_secrets")
    off = Masker(PrivacyConfig(**dict.fromkeys(switches, False), mask_dates="none"))
    assert off.mask(text) == text and not off.active


def test_all_dates_and_other_phone_regions_on_request() -> None:
    every_date = Masker(PrivacyConfig(mask_dates="all"))
    assert every_date.mask("paid on 12/03/2025, born 1 May 1990") == "paid on [date], born [dob]"
    assert every_date.mask("paid on 31/31/2025") == "paid on 31/31/2025"  # no month 31
    american = Masker(PrivacyConfig(phone_regions=["gb", "US"]))
    assert american.config.phone_regions == ["GB", "US"]
    assert american.mask("call (202) 555-0143 or 020 7946 0958") == "call [phone] or [phone]"
    assert MASKER.mask("call (202) 555-0143") == "call (202) 555-0143"  # not a GB number


def test_an_unknown_phone_region_is_refused(tmp_path: Path, tiny_bot_dir: Path) -> None:
    with pytest.raises(ValidationError, match="unknown phone region 'XX'"):
        PrivacyConfig(phone_regions=["XX"])
    config = tiny_bot_dir / "bot.yaml"
    config.write_text(config.read_text() + "privacy:\n  phone_regions: [GB, XX]\n")
    with pytest.raises(AgentError) as caught:
        load_bot(tiny_bot_dir)
    message = str(caught.value)
    assert "bot.yaml" in message and "phone_regions" in message and "'XX'" in message and "\n" not in message


def test_found_lists_what_was_masked() -> None:
    assert MASKER.found("mail ann@example.com or call +44 20 7946 0958, my pin is 4821") == [
        ("ann@example.com", "[email]"),
        ("4821", "[secret]"),
        ("+44 20 7946 0958", "[phone]"),
    ]


def test_a_reply_and_its_trace_lose_what_the_customer_gave_away() -> None:
    customer = "my pin is 4821 and my mail ann@example.com"
    reply = Reply(
        session_id="s",
        text="We wrote to ann@example.com; PIN 4821 noted. Your balance is £14,821.",
        source="template",
        reason="slot filled from 'ann@example.com'",
        intent="change_pin",
        confidence=0.9,
        entities=[EntityMention(id="mail", type="email", name="e-mail", surface="ann@example.com")],
        decoder=DecoderTrace(text="Thanks, 4821 is set.", rejected=["unsupported value ann@example.com"]),
        context=ContextReading(
            active="change_pin", kind="follow-up", intent="change_pin", alone="oos", confidence=0.8, note="4821"
        ),
    )
    stored = MASKER.mask_reply(reply, customer)
    assert stored.text == "We wrote to [email]; PIN [secret] noted. Your balance is £14,821."  # whole words only
    dumped = stored.model_dump_json()
    assert "ann@example.com" not in dumped and "4821 " not in dumped and '"4821"' not in dumped
    assert stored.decoder is not None and stored.decoder.text == "Thanks, [secret] is set."
    assert MASKER.mask_reply(reply, "no personal data here") is reply


# Messages of 2,000 characters built to make a regular expression backtrack, or a checker run often.
ADVERSARIAL_UNITS = [
    "😀",
    "e\u0301\u0302",
    "银行卡",
    "مرحبا ",
    "1",
    "1 ",
    "1-",
    "(1) ",
    "+44 ",
    "4111 ",
    "AB12 ",
    "GB82WEST",
    "a.",
    "a@b.",
    "pin 1 ",
    "password is ",
    "born on the ",
    "12/03/",
    " ",
]


def _best_time(text: str, config: PrivacyConfig, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        masker = Masker(config)  # a fresh one: a masker remembers the texts it scanned
        started = time.perf_counter()
        masker.mask(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS)
def test_masking_cost_grows_linearly_with_the_message(unit: str) -> None:
    # Eight times the text may cost about eight times as much; backtracking that grows with the square of
    # the length (64x) or worse fails. A relative bound: the machine's speed and load cancel out.
    config = PrivacyConfig(mask_dates="all")
    short, long = (unit * 2000)[:250], (unit * 2000)[:2000]
    ratio = _best_time(long, config) / max(_best_time(short, config), 1e-5)
    assert ratio < 32, f"masking {unit!r} x2000 costs {ratio:.1f}x masking it x250"


def test_store_holds_masked_text_but_reply_is_whole(demo_agent: Agent) -> None:
    message = (
        "my card 4111.1111.1111.1111 was stolen, email me at ann@example.com or call +44 20 7946 0958; "
        "IBAN GB82 WEST 1234 5698 7654 32, born 12/03/1985, my pin is 4821"
    )
    reply = demo_agent.respond("pii", message)
    assert reply.source in {"faq", "template", "ask"}  # answered from the original words
    stored = demo_agent.conversation("pii")
    assert stored is not None
    customer, bot = stored.turns[0], stored.turns[1]
    assert customer.text == (
        "my card [card] was stolen, email me at [email] or call [phone]; IBAN [iban], born [dob], my pin is [secret]"
    )
    assert bot.text == reply.text  # the bank's own words (its phone number included) are kept
    # Everything kept: texts, traces, state (not the timestamps, whose digits could read "4111" by chance).
    kept = [turn.text + (turn.trace.model_dump_json() if turn.trace else "") for turn in stored.turns]
    everything = " ".join(kept) + repr(demo_agent.store.load_states(["pii"]))
    for secret in ("4111", "ann@example.com", "7946", "WEST", "1985", "4821"):
        assert secret not in everything


def test_reply_repeating_customer_data_is_masked_in_store(demo_agent: Agent, tmp_path: Path) -> None:
    masker = demo_agent.masker
    reply = demo_agent.respond("echo", "what is my card limit")
    echoed = reply.model_copy(update={"text": "We will write to ann@example.com."})
    assert masker.mask_reply(echoed, "mail ann@example.com").text == "We will write to [email]."
    assert masker.mask_reply(echoed, "no personal data here").text == echoed.text
