"""Pattern slots: details found by their shape rather than the knowledge graph (bot.yaml `patterns:`).

    patterns:
      order_number: {regex: '\\b[A-Z]{2}-?\\d{6}\\b'}     # the shop's own order numbers
      email: {kind: email}                               # personal by default: masked in storage

A pattern's name is a slot type templates can ask for and fill (`{order_number}`),
and a `slot:` that `{{Order Number}}` placeholders can name.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from agent.config.base import _Strict

# The shapes every bot can use without writing a regex (agent/steps/patterns.py holds their regexes).
PatternKind = Literal["email", "amount", "date", "phone"]
PERSONAL_KINDS = ("email", "phone")  # personal data unless a bot says otherwise
MAX_PATTERN_CHARS = 500


class PatternConfig(_Strict):
    """One pattern slot: exactly one of `regex` or `kind`."""

    # A Python regular expression; the whole match is the value, or the group named `value` when it has one.
    # Matched case-insensitively unless it sets its own flags, on every message: keep it linear (no nested
    # repetition such as `(a+)+`), since Python's regexes have no time limit.
    regex: str | None = Field(None, min_length=1, max_length=MAX_PATTERN_CHARS)
    # A built-in shape: email, amount ("£25.50", "40 euros"), date ("12/03/2026", "3 March"), phone.
    kind: PatternKind | None = None
    # Personal data: masked (as `[name]`) in everything kept (transcript, trace, history, exports) while the
    # conversation still uses the value. Defaults to true for email and phone, false otherwise.
    personal: bool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PatternConfig:
        if (self.regex is None) == (self.kind is None):
            raise ValueError("give exactly one of regex or kind (e.g. `{regex: '\\bAB\\d{6}\\b'}` or `{kind: email}`)")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile ({exc})") from None
        return self

    @property
    def is_personal(self) -> bool:
        return self.personal if self.personal is not None else self.kind in PERSONAL_KINDS
