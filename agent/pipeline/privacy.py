"""Masking personal data (card numbers, e-mail addresses, phone numbers) before it is stored or logged.

    masker = Masker(PrivacyConfig())
    masker.mask("my card 4111 1111 1111 1111, mail me at ann@example.com")
    # -> "my card [card], mail me at [email]"

The pipeline answers from the customer's original words; only what is kept
(the transcript, the session history, the trace) goes through the masker. In the
bot's own reply only what the customer wrote is masked (the bank's phone number stays).
Card numbers are masked only when they pass the Luhn check, so order numbers
and amounts stay readable; phone numbers need enough digits not to be a date.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.config import PrivacyConfig
from agent.types import Reply

CARD_MASK = "[card]"
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

# 13-19 digits, optionally split by single spaces or dashes ("4111 1111 1111 1111"), not inside a longer number.
CARD = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
# An optional + or 00, an optional bracket, then digits with spaces, dots, dashes or brackets between them.
PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d ().-]{5,24}\d(?!\w)")
DIGIT = re.compile(r"\d")
MIN_PHONE_DIGITS = 9  # shorter plain numbers are amounts, dates or references
MIN_INTERNATIONAL_DIGITS = 7  # after + or 00 a short number is still a phone number
MAX_PHONE_DIGITS = 15  # E.164


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum that every payment card number carries."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        value = int(char)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = "".join(DIGIT.findall(match.group()))
    return CARD_MASK if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group()


def _phone(match: re.Match[str]) -> str:
    text = match.group()
    digits = len(DIGIT.findall(text))
    international = text.startswith(("+", "00"))
    least = MIN_INTERNATIONAL_DIGITS if international else MIN_PHONE_DIGITS
    return PHONE_MASK if least <= digits <= MAX_PHONE_DIGITS else text


class Masker:
    """Replaces personal data in text with placeholders, as bot.yaml's `privacy:` section says."""

    def __init__(self, config: PrivacyConfig) -> None:
        self.config = config

    @property
    def active(self) -> bool:
        return self.config.mask_cards or self.config.mask_emails or self.config.mask_phones

    def mask(self, text: str) -> str:
        """`text` with every enabled kind of personal data replaced by its placeholder."""
        return self._apply(text, [])

    def found(self, text: str) -> list[tuple[str, str]]:
        """The (original, placeholder) pairs `mask` would replace in `text`."""
        pairs: list[tuple[str, str]] = []
        self._apply(text, pairs)
        return pairs

    def mask_reply(self, reply: Reply, customer_text: str) -> Reply:
        """A copy of `reply` safe to store: what the customer gave away is masked wherever the reply repeats it.

        The bot's own words (the bank's phone number in an answer) are not the customer's data and stay.
        """
        pairs = self.found(customer_text) if self.active else []
        if not pairs:
            return reply

        def scrub(text: str) -> str:
            for original, placeholder in pairs:
                text = text.replace(original, placeholder)
            return text

        entities = [e.model_copy(update={"surface": scrub(e.surface)}) for e in reply.entities]
        return reply.model_copy(update={"text": scrub(reply.text), "entities": entities})

    def _apply(self, text: str, pairs: list[tuple[str, str]]) -> str:
        def keep(rule: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
            def replace(match: re.Match[str]) -> str:
                out = rule(match)
                if out != match.group():
                    pairs.append((match.group(), out))
                return out

            return replace

        # Cards first: a card number is also a long run of digits the phone rule would take.
        if self.config.mask_cards:
            text = CARD.sub(keep(_card), text)
        if self.config.mask_emails:
            text = EMAIL.sub(keep(lambda _: EMAIL_MASK), text)
        if self.config.mask_phones:
            text = PHONE.sub(keep(_phone), text)
        return text
