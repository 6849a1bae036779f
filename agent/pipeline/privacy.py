"""Masking personal data before it is stored, logged or written by replay (bot.yaml `privacy:`).

    masker = Masker(PrivacyConfig())
    masker.mask("my card 4111.1111.1111.1111, IBAN GB82 WEST 1234 5698 7654 32, my pin is 4821")
    # -> "my card [card], IBAN [iban], my pin is [secret]"

The pipeline answers from the customer's original words; only what is kept
(the transcript, the session history, the trace, replay's results and reports)
goes through the masker. Kinds are masked in a fixed order, each on the text the
previous ones left, so an IBAN's digits are never read as a phone number:
IBANs, cards, e-mails, dates, secrets, phones (agent/pipeline/pii.py finds each).
Placeholders hold no digits, so masking masked text changes nothing.

In the bot's own reply (and everywhere in its trace) only what the customer wrote
is masked: the bank's phone number in an answer stays.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from stdnum import luhn

from agent.config import BotConfig, PrivacyConfig
from agent.pipeline import pii
from agent.steps.patterns import PatternFinder
from agent.types import Reply

IBAN_MASK = "[iban]"
CARD_MASK = "[card]"
EMAIL_MASK = "[email]"
BIRTH_DATE_MASK = "[dob]"
DATE_MASK = "[date]"
SECRET_MASK = "[secret]"
PHONE_MASK = "[phone]"

Finder = Callable[[str], list[pii.Span]]
SCANS_KEPT = 256  # texts whose scan is remembered (a batch of turns, each masked and then looked for in its reply)


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum that every payment card number carries."""
    return luhn.is_valid(digits)


class Masker:
    """Replaces personal data in text with placeholders, as bot.yaml's `privacy:` section says."""

    def __init__(self, config: PrivacyConfig, extra: Sequence[tuple[Finder, str]] = ()) -> None:
        """`extra` rules (finder, placeholder) run after the built-in kinds: a bot's personal pattern
        slots (`PatternFinder.masking_rules`)."""
        self.config = config
        rules: list[tuple[Finder, str]] = []
        if config.mask_ibans:  # before cards and phones: an IBAN holds long runs of digits
            rules.append((pii.ibans, IBAN_MASK))
        if config.mask_cards:  # before phones: a card number is also a long run of digits
            rules.append((pii.cards, CARD_MASK))
        if config.mask_emails:
            rules.append((pii.emails, EMAIL_MASK))
        if config.mask_dates != "none":  # before phones and secrets: 12.03.1985 is neither
            rules.append((pii.birth_dates, BIRTH_DATE_MASK))
        if config.mask_dates == "all":
            rules.append((pii.dates, DATE_MASK))
        if config.mask_secrets:
            rules.append((pii.secrets, SECRET_MASK))
        if config.mask_phones:
            regions = list(config.phone_regions)
            rules.append((lambda text: pii.phones(text, regions), PHONE_MASK))
        self._rules = [*rules, *extra]
        # A turn masks the customer's text, then looks for it in the reply (and replay does both again):
        # the scan of a text is kept for the next few calls instead of being redone.
        self._scan = functools.lru_cache(maxsize=SCANS_KEPT)(self._apply)

    @classmethod
    def for_bot(cls, config: BotConfig) -> Masker:
        """The masker of a bot: its `privacy:` rules and its personal `patterns:`."""
        return cls(config.privacy, PatternFinder(config.patterns).masking_rules())

    @property
    def active(self) -> bool:
        return bool(self._rules)

    def mask(self, text: str) -> str:
        """`text` with every enabled kind of personal data replaced by its placeholder."""
        return self._scan(text)[0]

    def found(self, text: str) -> list[tuple[str, str]]:
        """The (original, placeholder) pairs `mask` would replace in `text`, in the order they were found."""
        return list(self._scan(text)[1])

    def mask_reply(self, reply: Reply, customer_text: str, also: Mapping[str, str] | None = None) -> Reply:
        """A copy of `reply` safe to keep: what the customer gave away is masked wherever the reply or its
        trace repeats it (the text, entity surfaces, the decoder's draft, reasons, context notes).

        `also` maps more of the customer's data to its mask: the personal pattern values the conversation
        holds from earlier turns (agent/steps/patterns.py). The bot's own words (the bank's phone number
        in an answer) are not the customer's data and stay.
        """
        scrub = self.scrubber(customer_text, also)
        if scrub is None:
            return reply
        return Reply.model_validate(_map_strings(reply.model_dump(), scrub))

    def scrubber(self, customer_text: str, also: Mapping[str, str] | None = None) -> Callable[[str], str] | None:
        """A function masking, in any text, what `customer_text` gave away (and each key of `also`, by its
        value); None when there is nothing to mask."""
        pairs = {**(also or {}), **(dict(self.found(customer_text)) if self.active else {})}
        if not pairs:
            return None
        # Longest first, and only as whole words: the customer's PIN "4821" is not masked inside "£14,821".
        alternatives = "|".join(re.escape(original) for original in sorted(pairs, key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
        return lambda text: pattern.sub(lambda match: pairs[match.group()], text)

    def _apply(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The masked text and the (original, placeholder) pairs replaced in it."""
        pairs: list[tuple[str, str]] = []
        for finder, placeholder in self._rules:
            spans = finder(text)
            if not spans:
                continue
            pieces, last = [], 0
            for start, end in spans:
                pieces += [text[last:start], placeholder]
                pairs.append((text[start:end], placeholder))
                last = end
            text = "".join(pieces) + text[last:]
        return text, tuple(pairs)


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """`value` (a dump of a model: dicts, lists, strings, numbers) with `change` applied to every string value."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _map_strings(item, change) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_map_strings(item, change) for item in value]
    return value
