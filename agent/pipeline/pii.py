"""Finding personal data in a message: each finder returns the character spans of one kind.

    ibans(text)            IBANs of any country, with or without spaces: python-stdnum checks the country's
                           format and the mod-97 checksum, so "GB00 ..." typos and look-alikes stay
    cards(text)            13-19 digits, unbroken or in groups split by one separator (space, -, ., /): Luhn-checked
    emails(text)           name@domain.tld
    birth_dates(text)      a date after "born", "date of birth", "DOB", "birthday" (12/03/1985, 1985-03-12,
                           12.03.1985, 12 March 1985, March 12, 1985); `dates(text)` finds any date with a year
    secrets(text)          what follows "password", "passcode", "PIN", "CVV", "security code", "memorable word"...:
                           the span is the secret alone, so the phrase stays for understanding
    phones(text, regions)  what libphonenumber's matcher finds valid: national formats of `regions`, and any
                           country's after + or 00 (amounts, order numbers and dates are not valid numbers)

`agent.pipeline.privacy.Masker` replaces the spans with placeholders, kind by kind. The checks
are maintained libraries' (python-stdnum for IBANs and Luhn, libphonenumber's matcher for
phones); Presidio is not used, as its recognisers need spaCy models downloaded at run time.
Every pattern is bounded (no nested unbounded repetition) and every candidate is checked
on at most a few dozen characters, so the cost grows linearly with the message
(tests/pipeline/test_privacy.py masks adversarial messages of 250 and 2,000 characters to
check it). libphonenumber looks at no more than MAX_PHONE_TRIES candidates in one text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn, numdb

Span = tuple[int, int]

# Two letters, two check digits, then 11-30 letters or digits, single spaces allowed between them.
IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
# 13-19 digits unbroken, or a group of 4 then 2-4 more groups joined by one and the same separator.
CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d{13,19}|\d{4}(?P<sep>[ ./-])\d{3,6}(?:(?P=sep)\d{1,6}){1,3})(?!\d)")
CARD_LENGTHS = range(13, 20)
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
# 12/03/1985, 12.03.85, 1985-03-12, 12 March 1985, 12th of March, 1985, March 12, 1985 (a year is required).
_DATE = (
    r"(?:\d{1,2}(?P<s1>[/.-])\d{1,2}(?P=s1)(?:\d{4}|\d{2})"
    r"|\d{4}(?P<s2>[/.-])\d{1,2}(?P=s2)\d{1,2}"
    rf"|\d{{1,2}}{_ORDINAL}(?: of)? {_MONTH}\.?,? \d{{4}}"
    rf"|{_MONTH}\.? \d{{1,2}}{_ORDINAL},? \d{{4}})"
)
_DATE_END = r"(?![\w/-]|\.\d)"
DATE = re.compile(rf"(?<![\w/.-]){_DATE}{_DATE_END}", re.IGNORECASE)
NUMERIC_DATE = re.compile(r"(\d+)[/.-](\d+)[/.-](\d+)")
# The words that make a date a birth date, then a few connecting words ("is", "on", ":"), then the date.
BIRTH_DATE = re.compile(
    r"(?<!\w)(?:born|date of birth|birth ?date|birthday|dob|d\.o\.b\.?)(?!\w)"
    r"[\s:,-]*(?:(?:is|was|on|the|of)\b[\s:,-]*){0,3}"
    rf"(?P<date>{_DATE}){_DATE_END}",
    re.IGNORECASE,
)

# Secrets made of digits (PINs, CVVs, one-time codes) and secrets that may be words (passwords).
_DIGIT_SECRET = (
    r"pin(?:[ -]?(?:number|code|no\.?))?|cvv2?|cvc2?|csc|security[ -]code|pass ?code|one[- ]time[ -](?:pass)?code"
    r"|otp|verification[ -]code|access[ -]code"
)
_WORD_SECRET = r"pass ?word|pass ?phrase|memorable[ -](?:word|information|answer)|secret (?:word|answer)"
_CONNECT = r"(?:(?:is|was|now|would be|will be|should be)(?!\w)|[=:-])"
DIGIT_SECRET = re.compile(
    rf"(?<!\w)(?:{_DIGIT_SECRET})(?!\w)[ \t]*(?:{_CONNECT}[ \t]*){{0,3}}(?P<secret>\d(?:[ -]?\d){{2,11}})(?!\d)",
    re.IGNORECASE,
)
WORD_SECRET = re.compile(
    rf"(?<!\w)(?:{_WORD_SECRET})(?!\w)[ \t]*(?:{_CONNECT}[ \t]*){{1,3}}(?P<secret>[^\s\[\]]{{1,64}})",
    re.IGNORECASE,
)
# Words that follow "password is" in a complaint, not a password: "my password is not working" keeps them.
_NOT_SECRETS = (
    "not no wrong incorrect invalid locked blocked expired forgotten forgot lost stolen working correct right too "
    "the a an my your it being still case reset changed compromised weak long short required needed asking failing "
    "rejected same different new old set saved stored empty blank accepted fine ok okay missing gone hacked leaked "
    "known what which that this and or but so because for to in on at of with please help always never"
)
NOT_SECRETS = frozenset(_NOT_SECRETS.split())
TRAILING = ".,;:!?)\"'”’"

MAX_PHONE_TRIES = 200  # libphonenumber's bound on candidates per text (its default is 65535)


def _checked(
    pattern: re.Pattern[str],
    text: str,
    valid: Callable[[str], bool],
    lengths: Callable[[str], range],
    separators: str,
) -> Iterator[Span]:
    """Spans of `pattern` that `valid` accepts, each cut back at a separator until it holds (longest first).

    `lengths(candidate)` says how many characters, separators aside, it may have. "GB82 WEST 1234
    5698 7654 32 1234" is an IBAN and a number; a look-alike that fails is searched again from its
    second character, since a valid one may start inside it.
    """
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        start, piece = match.start(), match.group()
        allowed = lengths(piece)
        found = 0
        if allowed:
            cuts = [len(piece)] + [i for i in range(len(piece) - 1, 0, -1) if piece[i] in separators]
            for cut in cuts:
                head = piece[:cut]
                size = cut - sum(head.count(separator) for separator in separators)
                if size < allowed.start:
                    break
                if size in allowed and valid(head):
                    found = start + cut
                    break
        if found:
            yield start, found
        pos = found or start + 1


def _iban_lengths() -> dict[str, int]:
    """Each IBAN country's length, from python-stdnum's registry: its BBAN structure ("4!a6!n8!n") plus 4."""
    table: dict[str, int] = {}
    for _length, low, high, props, _children in numdb.get("iban").prefixes:
        if low == high and "bban" in props:
            table[low] = 4 + sum(int(size) for size in re.findall(r"(\d+)!", props["bban"]))
    return table


IBAN_LENGTHS = _iban_lengths()
NO_LENGTH = range(0)


def _iban_length(candidate: str) -> range:
    length = IBAN_LENGTHS.get(candidate[:2].upper())
    return NO_LENGTH if length is None else range(length, length + 1)


def ibans(text: str) -> list[Span]:
    """IBANs whose country format and mod-97 checksum hold (python-stdnum)."""
    return list(_checked(IBAN_CANDIDATE, text, stdnum_iban.is_valid, _iban_length, " "))


def _card_valid(candidate: str) -> bool:
    return luhn.is_valid(re.sub(r"\D", "", candidate))


def cards(text: str) -> list[Span]:
    """Card numbers that pass the Luhn check, unbroken or grouped by one kind of separator."""
    return list(_checked(CARD_CANDIDATE, text, _card_valid, lambda _: CARD_LENGTHS, " ./-"))


def emails(text: str) -> list[Span]:
    """E-mail addresses."""
    return [match.span() for match in EMAIL.finditer(text)]


def _plausible(date: str) -> bool:
    """A numeric date whose day and month can be a day and a month, either way round (12/03 or 03/12)."""
    numeric = NUMERIC_DATE.fullmatch(date)
    if numeric is None:
        return True  # the month is written in words
    first, second, third = (int(part) for part in numeric.groups())
    if first > 31:  # the year first: 1985-03-12
        return 1 <= second <= 12 and 1 <= third <= 31
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


def birth_dates(text: str) -> list[Span]:
    """Dates after the words that make them a date of birth (the words themselves stay)."""
    return [match.span("date") for match in BIRTH_DATE.finditer(text) if _plausible(match.group("date"))]


def dates(text: str) -> list[Span]:
    """Every date with a year (for `privacy.mask_dates: all`)."""
    return [match.span() for match in DATE.finditer(text) if _plausible(match.group())]


def secrets(text: str) -> list[Span]:
    """What follows a secret's name: 3-12 digits after a PIN's or code's, a non-complaint word after a password's."""
    spans = [match.span("secret") for match in DIGIT_SECRET.finditer(text)]
    for match in WORD_SECRET.finditer(text):
        start, end = match.span("secret")
        while end > start and text[end - 1] in TRAILING:  # "my password is hunter2." keeps its full stop
            end -= 1
        word = text[start:end].strip("\"'“‘”’").lower()
        if word and word not in NOT_SECRETS:
            spans.append((start, end))
    return _disjoint(sorted(spans))


def phones(text: str, regions: list[str]) -> list[Span]:
    """Phone numbers libphonenumber finds valid, national ones read as numbers of any of `regions`."""
    spans: set[Span] = set()
    for region in regions:
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID, max_tries=MAX_PHONE_TRIES
        )
        spans.update((match.start, match.end) for match in matcher)
    return _disjoint(sorted(spans))


def _disjoint(spans: list[Span]) -> list[Span]:
    """Spans sorted by start, overlapping ones merged (two regions may read one number differently)."""
    out: list[Span] = []
    for start, end in spans:
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
