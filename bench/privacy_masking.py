"""What the privacy masker does to normal messages, how fast it is, and whether masking changes understanding.

Corpora: the demo bot's intent examples (knowledge/intents.yaml), the customer turns
of the Meridian dev conversations and Banking77's test set (both read by path), and
PII_MESSAGES below: demo-bot questions that carry personal data, each with its intent.
For each: how many messages the default `privacy:` rules change, and which
placeholders they put in; the same with `mask_dates: all`; and how many normal
messages mention a PIN, password, passcode or CVV, or hold a date, and were changed.
Speed: mean time per message, and the slowest 2,000-character adversarial message.
With --bot (a trained bot folder, e.g. a decoder-off copy of the demo), every
changed message is read by the bot as written and as masked, and the intents compared.

    python -m bench.privacy_masking [--bot DIR]

It uses only `Masker(PrivacyConfig()).mask`, so the same script measures an older
version's masker when run in that version's checkout.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from agent.config import PrivacyConfig
from agent.pipeline.privacy import Masker
from bench.common import DATASETS, ROOT, machine, read_rows

PLACEHOLDER = re.compile(r"\[(iban|card|email|dob|date|secret|phone)\]")
ADVERSARIAL_UNITS = ["😀", "e\u0301\u0302", "银行卡", "مرحبا ", "1", "1 ", "1-", "(1) ", "+44 ", "4111 ", "AB12 "]
ADVERSARIAL_UNITS += ["GB82WEST", "a.", "a@b.", "pin 1 ", "password is ", "born on the ", "12/03/", " "]
SHOWN = 12
SECRET_WORDS = re.compile(r"\b(pin|password|passcode|cvv|cvc|security code)\b", re.IGNORECASE)
DATE_LIKE = re.compile(
    r"\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b",
    re.IGNORECASE,
)
# Questions about payments on a date (no personal data): what `mask_dates: all` would take from them.
DATED_MESSAGES = [
    ("I was charged twice for the same thing on 12/03/2025", "transaction_charged_twice"),
    ("the transfer I made on 3 March 2025 still hasn't arrived", "transfer_not_received_by_recipient"),
    ("a card payment on 2025-11-23 is still pending", "pending_card_payment"),
    ("I topped up on 14.11.2025 and it's still not in my balance", "pending_top_up"),
    ("there's a payment from November 2, 2025 I don't recognise", "card_payment_not_recognised"),
    ("my cash withdrawal on 01/12/2025 is still pending", "pending_cash_withdrawal"),
    ("I asked for a refund on 5th of October 2025 and it's not showing up", "Refund_not_showing_up"),
    (
        "I deposited a cheque on 20/11/2025 but my balance hasn't changed",
        "balance_not_updated_after_cheque_or_cash_deposit",
    ),
    ("my direct debit on 28/11/2025 was taken but I never set it up", "direct_debit_payment_not_recognised"),
    ("the ATM gave me less cash than I asked for on 30 Nov 2025", "wrong_amount_of_cash_received"),
]
# Questions to the demo bot with the personal data customers put in them, and the intent each one is.
PII_MESSAGES = [
    ("my card 4111 1111 1111 1111 was stolen, please block it", "lost_or_stolen_card"),
    ("there's a payment on card 5500-0000-0000-0004 I don't recognise", "card_payment_not_recognised"),
    (
        "I sent money to GB82 WEST 1234 5698 7654 32 yesterday and they still haven't got it",
        "transfer_not_received_by_recipient",
    ),
    ("my transfer to DE89370400440532013000 failed, why?", "failed_transfer"),
    ("cancel the transfer to FR14 2004 1010 0505 0001 3M02 606 please", "cancel_transfer"),
    ("how long does a transfer to NO93 8601 1117 947 take?", "transfer_timing"),
    ("my pin is 4821 and now it says it is blocked", "pin_blocked"),
    ("I want to change my PIN, the current pin is 1234", "change_pin"),
    ("I forgot my passcode, it used to be 123456 I think", "passcode_forgotten"),
    ("please change my email to ann.lee@example.com", "edit_personal_details"),
    ("my new phone number is 07911 123456, can you update it", "edit_personal_details"),
    ("I was born on 12/03/2010, am I old enough to open an account?", "age_limit"),
    ("my date of birth is 12 March 1985 but the identity check keeps failing", "unable_to_verify_identity"),
    ("dob 1985-03-12, why do you need to verify my identity?", "why_verify_identity"),
    ("the cvv 123 on card 4111.1111.1111.1111 is rejected online, the card doesn't work", "card_not_working"),
    ("my card 4111/1111/1111/1111 expires next month, will you send a new one?", "card_about_to_expire"),
    ("call me on +44 20 7946 0958, I want to talk to a person", "human_handoff"),
    ("I topped up £50 from card 4111 1111 1111 1111 but it's still pending", "pending_top_up"),
    ("my phone was stolen, the number was +44 7911 123456", "lost_or_stolen_phone"),
    ("I was charged twice, £12.99 on 12/03/2025, card 5500 0000 0000 0004", "transaction_charged_twice"),
    ("can I link my other card 3782 822463 10005 in the app?", "card_linking"),
    ("the security code is 456 and my card payment was declined", "declined_card_payment"),
    ("my password is hunter2 and I got charged an extra fee on my statement", "extra_charge_on_statement"),
    ("I'd like to close my account, my email is ann.lee@example.com", "terminate_account"),
]


def corpora() -> dict[str, list[str]]:
    """Normal messages: the demo's intent examples, Meridian dev customer turns, Banking77 test texts."""
    intents = yaml.safe_load((ROOT / "knowledge" / "intents.yaml").read_text(encoding="utf-8"))["intents"]
    out = {"demo intents.yaml examples": [text for intent in intents for text in intent["examples"]]}
    dev = DATASETS / "meridian_conversations" / "dev.jsonl"
    if dev.is_file():
        lines = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]
        out["meridian dev customer turns"] = [t["text"] for c in lines for t in c["turns"] if t["role"] == "customer"]
    if (DATASETS / "banking77" / "test.csv").is_file():
        out["banking77 test"] = [row["text"] for row in read_rows("banking77/test.csv")]
    out["dated messages (bench)"] = [text for text, _ in DATED_MESSAGES]
    out["PII messages (bench)"] = [text for text, _ in PII_MESSAGES]
    return out


def near_misses(masker: Masker, texts: list[str]) -> dict[str, Any]:
    """Normal messages that mention a secret's name, or hold a date: how many of them the masker changed."""
    secret = [text for text in texts if SECRET_WORDS.search(text)]
    dated = [text for text in texts if DATE_LIKE.search(text)]
    return {
        "mention_pin_password_passcode_cvv": len(secret),
        "of_them_changed": sum(masker.mask(text) != text for text in secret),
        "hold_a_date": len(dated),
        "of_those_changed": sum(masker.mask(text) != text for text in dated),
    }


def changes(masker: Masker, texts: list[str]) -> dict[str, Any]:
    changed = [(text, masker.mask(text)) for text in texts]
    changed = [(text, masked) for text, masked in changed if masked != text]
    kinds: Counter[str] = Counter()
    for text, masked in changed:
        kinds.update(set(PLACEHOLDER.findall(masked)) - set(PLACEHOLDER.findall(text)))
    return {
        "messages": len(texts),
        "changed": len(changed),
        "kinds": dict(kinds.most_common()),
        "examples": [f"{text} -> {masked}" for text, masked in changed[:SHOWN]],
    }


def speed(config: PrivacyConfig, texts: list[str]) -> dict[str, Any]:
    masker = Masker(config)
    started = time.perf_counter()
    for text in dict.fromkeys(texts):  # each text once: a masker remembers the texts it scanned
        masker.mask(text)
    mean_us = (time.perf_counter() - started) / len(dict.fromkeys(texts)) * 1e6
    slowest = {}
    for unit in ADVERSARIAL_UNITS:
        text = (unit * 2000)[:2000]
        best = min(_timed(Masker(config), text) for _ in range(3))
        slowest[unit] = round(best * 1000, 3)
    worst = max(slowest, key=slowest.__getitem__)
    return {
        "mean_us_per_normal_message": round(mean_us, 1),
        "slowest_adversarial_2000_chars": {"unit": worst, "ms": slowest[worst]},
        "adversarial_ms": slowest,
    }


def _timed(masker: Masker, text: str) -> float:
    started = time.perf_counter()
    masker.mask(text)
    return time.perf_counter() - started


def understanding(bot: str, masker: Masker, texts: list[str]) -> dict[str, Any]:
    """The changed messages read by the bot as written and as masked: how many change intent, and the PII
    messages' accuracy either way."""
    from agent.training import load_trained

    pairs = [(text, masked) for text in dict.fromkeys(texts) if (masked := masker.mask(text)) != text]
    agent = load_trained(bot, decoder=False, store_url="sqlite:///:memory:")
    try:
        written = _intents(agent, [text for text, _ in pairs])
        masked = _intents(agent, [text for _, text in pairs])
    finally:
        agent.close()
    read = {text: (before, after) for (text, _), before, after in zip(pairs, written, masked, strict=True)}
    moved = [f"{text!r}: {before} -> {after}" for text, (before, after) in read.items() if before != after]
    out: dict[str, Any] = {"changed_messages": len(pairs), "intent_changed": len(moved), "examples": moved[:SHOWN]}
    for name, labelled in (("pii_messages", PII_MESSAGES), ("dated_messages", DATED_MESSAGES)):
        changed = [(read[text], intent) for text, intent in labelled if text in read]
        out[name] = {
            "changed": len(changed),
            "accuracy_of_changed_as_written": _accuracy([(before, gold) for (before, _), gold in changed]),
            "accuracy_of_changed_as_masked": _accuracy([(after, gold) for (_, after), gold in changed]),
        }
    return out


def _intents(agent: Any, texts: list[str]) -> list[str]:
    """What the bot reads each text as, each alone in a fresh conversation."""
    turns = agent.annotate([(f"bench-{i}", text) for i, text in enumerate(texts)]) if texts else []
    return [turn.intent.name for turn in turns]


def _accuracy(pairs: list[tuple[str, str]]) -> float | None:
    return round(sum(a == b for a, b in pairs) / len(pairs), 4) if pairs else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bot", default=None, help="a trained bot folder: compare its reading of changed messages")
    args = parser.parse_args()
    masker = Masker(PrivacyConfig())
    texts = corpora()
    result: dict[str, Any] = {"machine": machine(), "default_rules": {}}
    for name, items in texts.items():
        result["default_rules"][name] = changes(masker, items)
    try:
        every_date = Masker(PrivacyConfig(mask_dates="all"))  # type: ignore[call-arg]
    except ValueError:  # a version without the setting
        every_date = None
    if every_date is not None:
        result["mask_dates_all"] = {name: changes(every_date, items) for name, items in texts.items()}
    everything = [text for items in texts.values() for text in items]
    normal = [text for name, items in texts.items() if name != "PII messages (bench)" for text in items]
    result["near_misses"] = near_misses(masker, normal)
    result["speed"] = speed(PrivacyConfig(), normal)
    if args.bot:
        result["understanding"] = understanding(str(Path(args.bot)), masker, everything)
        if every_date is not None:
            result["understanding_mask_dates_all"] = understanding(str(Path(args.bot)), every_date, everything)
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
