"""Pattern slots: details found by their shape (bot.yaml `patterns:`), carried like graph entities.

    finder = PatternFinder({"order_number": PatternConfig(regex=r"\\bAB\\d{6}\\b")})
    finder.find("where is order AB123456?")   # [PatternMatch(name="order_number", value="AB123456")]

An order number, a tracking code, an amount, a date or an e-mail address is not in
the knowledge graph: it is whatever the customer types. Each match fills template
slots of the pattern's type (`{order_number}`) and `{{Order Number}}` placeholders
mapped to it (`slot: order_number`); the session keeps the last value of each
pattern for later turns. Personal ones are masked as `[name]` in everything kept: their
`masking_rules` join the privacy masker's (agent/pipeline/privacy.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from agent.config import PatternConfig
from agent.types import PatternMatch, Turn

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# The built-in shapes. Each is linear in the message's length: no nested repetition.
BUILT_IN: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[a-z]{2,24}\b", re.I),
    "amount": re.compile(
        r"(?:[$€£¥]\s?\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?|[$€£¥]\s?\d+(?:\.\d{1,2})?"
        r"|\b\d+(?:[.,]\d{1,2})?\s?(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks)\b)",
        re.I,
    ),
    "date": re.compile(
        r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.](?:\d{4}|\d{2})"
        rf"|\d{{1,2}}(?:st|nd|rd|th)?\s(?:of\s)?{_MONTH}(?:\s\d{{4}})?|{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s\d{{4}})?)\b",
        re.I,
    ),
    "phone": re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}[\s.-]?(?:\(?\d{1,4}\)?[\s.-]?){2,5}\d{2,4}(?!\w)"),
}


class PatternFinder:
    """Finds each declared pattern in a message (the first match of each); a pipeline step."""

    name = "patterns"

    def __init__(self, patterns: Mapping[str, PatternConfig]) -> None:
        self.regexes = {
            name: BUILT_IN[spec.kind] if spec.kind else re.compile(spec.regex or "", re.I)
            for name, spec in patterns.items()
        }
        self.personal = [name for name, spec in patterns.items() if spec.is_personal]  # in bot.yaml's order

    def find(self, text: str) -> list[PatternMatch]:
        """The first match of every pattern in `text`, in the order bot.yaml declares them."""
        found = []
        for name, regex in self.regexes.items():
            match = regex.search(text)
            if match is None:
                continue
            value = match.group("value") if "value" in regex.groupindex else match.group()
            if value and value.strip():
                found.append(PatternMatch(name=name, value=value.strip(), personal=name in self.personal))
        return found

    def __call__(self, turns: Sequence[Turn]) -> None:
        for turn in turns:
            turn.patterns = self.find(turn.text)

    def masking_rules(self) -> list[tuple[Callable[[str], list[tuple[int, int]]], str]]:
        """(finder of spans, `[name]`) for each personal pattern: rules the privacy masker adds to its own,
        so that everything kept (the store, replay's results and reports) masks them."""

        def spans(regex: re.Pattern[str]) -> Callable[[str], list[tuple[int, int]]]:
            return lambda text: [m.span() for m in regex.finditer(text) if m.end() > m.start()]

        return [(spans(self.regexes[name]), f"[{name}]") for name in self.personal]

    def personal_values(self, values: Mapping[str, str]) -> dict[str, str]:
        """The personal ones of a session's pattern values, value -> its mask."""
        return {value: f"[{name}]" for name, value in values.items() if name in self.personal and value}
