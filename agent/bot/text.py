"""Text hygiene shared by files and messages: direction controls out, and whether a text has words at all.

Direction controls are taken out of every text a customer or a log gives before it is kept or shown.

The embeddings and overrides U+202A-U+202E, the isolates U+2066-U+2069 and the marks
U+200E, U+200F and U+061C change the order in which a terminal or a browser draws the
characters after them: "refund to \u202eNBAN" reads as something else in an agent's
console, and a message can make the words around it appear reversed. None of them
changes what a message says, so they are removed (not replaced by a space: they sit
inside words), at the edge (`agent.pipeline.messages.clean_message`), in every
conversation log read (`agent.bot.schemas.LoggedTurn`) and wherever the TUI shows text.

A text without a single letter or digit (emoji, symbols, punctuation, combining marks,
unassigned code points) gives the sentence encoder nothing to read: MiniLM sees "[UNK]"
for an emoji, a run of them or an unassigned character alike, so a FAQ question of one
unassigned character matched every emoji-only message with cosine 1.0. `has_words`
says whether a text has anything to be matched by (agent/steps/faq.py, FaqFile).
"""

from __future__ import annotations

import re

DIRECTION_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
WORD_CHARACTER = re.compile(r"[^\W_]")  # a letter or a digit of any script (str.isalnum)


def without_direction_controls(text: str) -> str:
    """`text` with every Unicode direction control removed."""
    return DIRECTION_CONTROLS.sub("", text)


def has_words(text: str) -> bool:
    """Whether `text` holds at least one letter or digit, of any script."""
    return WORD_CHARACTER.search(text) is not None
