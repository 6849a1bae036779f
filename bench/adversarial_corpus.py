"""A fixed-seed corpus of adversarial customer messages, each at most the bot's message limit.

Every kind is built to stress one way a step could cost more than a message's size
suggests: emoji that VADER expands to several words each (with ZWJ family sequences,
skin tones, flags and variation selectors), combining marks piled on one letter,
right-to-left scripts with direction marks, CJK without spaces, one character or one
word repeated, long tokens without spaces (letters, digits, card-like and e-mail-like
runs), words VADER's checks look around ("but", "not", "very"), and all of them mixed.
`normal` is ordinary English of the same length, the baseline to compare with.

    from bench.adversarial_corpus import corpus
    for message in corpus(2000): print(message.kind, len(message.text))

Lengths are in code points (what `limits.max_message_chars` counts); a kind that
cannot reach the limit exactly (a ZWJ sequence cut in half) stops just below it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass

SEED = 19
ZWJ = "\u200d"
VS16 = "\ufe0f"
SKIN_TONES = [chr(c) for c in range(0x1F3FB, 0x1F400)]
# Emoji blocks: smileys, people, animals, food, travel, symbols.
EMOJI_RANGES = [(0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF), (0x2600, 0x26FF)]
FAMILIES = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family: man, woman, girl, boy
    "\U0001f469\u200d\u2764\ufe0f\u200d\U0001f48b\u200d\U0001f468",  # kiss: woman, man
    "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
    "\U0001f9d1\U0001f3fd\u200d\U0001f4bb",  # technologist, medium skin tone
]
HANDS = ["\U0001f44d", "\U0001f44b", "\U0001f64f", "\U0001f44f", "\u270c"]
FLAGS = ["\U0001f1e9\U0001f1ea", "\U0001f1eb\U0001f1f7", "\U0001f1ec\U0001f1e7", "\U0001f1fa\U0001f1f8"]
ARABIC = "مرحبا لقد فقدت بطاقتي المصرفية أمس هل يمكنكم إيقافها من فضلكم شكرا جزيلا"
HEBREW = "שלום איבדתי את הכרטיס שלי אתמול בבקשה לחסום אותו תודה רבה"
DIRECTION_MARKS = ["\u200e", "\u200f", "\u202b", "\u202e", "\u2067", "\u2069"]
NORMAL = (
    "Hello, I was charged twice for the same card payment at the supermarket yesterday and "
    "the second one still shows as pending in the app. Could you tell me when it will be "
    "refunded, and whether I need to do anything? I am a bit annoyed, but thanks for your help. "
)
VADER_WORDS = ["but", "not", "no", "never", "very", "kind of", "at least", "so", "without doubt"]
LADEN = ["good", "bad", "love", "hate", "great", "awful", "happy", "sad", "furious", "thanks"]


@dataclass(frozen=True)
class Message:
    """One adversarial message: what kind it is and its text."""

    kind: str
    text: str


def _fill(rng: random.Random, limit: int, piece: Callable[[random.Random], str], sep: str = "") -> str:
    """Pieces joined by `sep` up to `limit` code points, never a piece cut in half."""
    out: list[str] = []
    size = 0
    while True:
        nxt = piece(rng)
        extra = len(nxt) + (len(sep) if out else 0)
        if size + extra > limit:
            return sep.join(out) if out else nxt[:limit]
        out.append(nxt)
        size += extra


def _words(text: str) -> Callable[[random.Random], str]:
    """The words of `text` one after another, from the start again after the last."""
    words = itertools.cycle(text.split())
    return lambda rng: next(words)


def _emoji(rng: random.Random) -> str:
    low, high = rng.choice(EMOJI_RANGES)
    return chr(rng.randint(low, high))


def _mixed_emoji(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.55:
        return _emoji(rng) + (VS16 if rng.random() < 0.2 else "")
    if roll < 0.7:
        return rng.choice(HANDS) + rng.choice(SKIN_TONES)
    if roll < 0.85:
        return rng.choice(FAMILIES)
    return rng.choice(FLAGS)


def _zalgo(rng: random.Random) -> str:
    return rng.choice("aeiouxyz") + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(5, 40)))


def _rtl(rng: random.Random) -> str:
    words = rng.choice([ARABIC, HEBREW]).split()
    return rng.choice(DIRECTION_MARKS) + " ".join(rng.sample(words, 4))


def _cjk(rng: random.Random) -> str:
    return chr(rng.randint(0x4E00, 0x9FFF)) if rng.random() < 0.8 else chr(rng.randint(0x3041, 0x3096))


def _letters(rng: random.Random) -> str:
    return rng.choice("abcdefghijklmnopqrstuvwxyz")


def _mixed(rng: random.Random) -> str:
    pick = rng.choice(
        [_mixed_emoji, _zalgo, _rtl, _cjk, lambda r: r.choice(LADEN), lambda r: r.choice(VADER_WORDS), _card_like]
    )
    return pick(rng)


def _card_like(rng: random.Random) -> str:
    sep = rng.choice([" ", "-", ".", "/", ""])
    return sep.join("".join(rng.choice("0123456789") for _ in range(4)) for _ in range(4))


def corpus(limit: int = 2000, seed: int = SEED) -> list[Message]:
    """The adversarial messages, each of at most `limit` code points; the same list for the same seed."""
    rng = random.Random(seed)
    kinds: dict[str, Callable[[], str]] = {
        "normal": lambda: _fill(rng, limit, _words(NORMAL), " "),
        "emoji_mixed": lambda: _fill(rng, limit, _mixed_emoji),
        "emoji_single": lambda: _fill(rng, limit, _emoji),
        "emoji_spaced": lambda: _fill(rng, limit, _emoji, " "),
        "emoji_zwj": lambda: _fill(rng, limit, lambda r: r.choice(FAMILIES)),
        "emoji_skin_tones": lambda: _fill(rng, limit, lambda r: r.choice(HANDS) + r.choice(SKIN_TONES)),
        "emoji_flags": lambda: _fill(rng, limit, lambda r: r.choice(FLAGS)),
        "combining_marks": lambda: _fill(rng, limit, _zalgo, " "),
        "combining_one_letter": lambda: "a" + "\u0301" * (limit - 1),
        "rtl": lambda: _fill(rng, limit, _rtl, " "),
        "cjk": lambda: _fill(rng, limit, _cjk),
        "repeated_char": lambda: "a" * limit,
        "repeated_bang": lambda: "!" * limit,
        "repeated_word": lambda: _fill(rng, limit, lambda r: "card", " "),
        "repeated_but": lambda: _fill(rng, limit, lambda r: "but", " "),
        "vader_modifiers": lambda: _fill(rng, limit, lambda r: r.choice(VADER_WORDS + LADEN), " "),
        "long_token_letters": lambda: _fill(rng, limit, _letters),
        "long_token_digits": lambda: _fill(rng, limit, lambda r: r.choice("0123456789")),
        "card_numbers": lambda: _fill(rng, limit, _card_like, " "),
        "email_like": lambda: _fill(rng, limit, lambda r: "a.b@c.de", ""),
        "braces": lambda: _fill(rng, limit, lambda r: r.choice(["{", "}", "{{", "}}", "{x.y}"])),
        "mixed": lambda: _fill(rng, limit, _mixed, " "),
        "mixed_no_spaces": lambda: _fill(rng, limit, _mixed),
    }
    return [Message(kind, make()) for kind, make in kinds.items()]
