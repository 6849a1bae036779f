"""Step 4: sentiment of the customer's message (VADER lexicon), for handoff on strong anger.

VADER's compound score runs from -1 (very negative) to +1 (very positive);
the dialog manager hands over below `dialog.negative_sentiment` in bot.yaml.

VADER is a general-purpose lexicon: it reads "failed", "stolen", "fraud" and
"rejected" as strongly negative, yet in a support chat they name the topic,
not the customer's mood ("my payment failed, do I lose the money?" scored -0.72
and was handed to a person instead of answered). Those topic words are taken
out of the lexicon; words of feeling ("furious", "useless", "worst") stay.

Cost: VADER replaces each emoji by its description (three words on average),
then, for every sentiment-laden word, lower-cases the whole message's word list
up to four times to look at the three words before and two after it. On a
2,000-emoji message (about 6,000 words, most of them laden: "smiling", "heart")
that is quadratic: 0.3-2.6 s for one message (issue 19). `LinearVader` gives those
checks only the window of words they read, and does the "but" check in one pass,
so a message costs time in proportion to its words; its scores are VADER's own,
number for number (bench/sentiment_agreement.py: all 32,319 messages of the public
datasets score the same).

Linear is still three to five words per emoji, so two bounds keep a message of
emoji at the cost of a few hundred words: only the first `max_emoji` emoji (100)
are described (the rest are left out: a hundred angry faces say what a thousand
do, and the compound score saturates long before), and VADER reads at most
`max_words` words, by default as many as the longest message of plain words can
hold (`limits.max_message_chars` / 2, one-letter words), so no message without
emoji is ever cut. No message of the public datasets holds an emoji at all.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from agent.types import Turn

# What goes wrong with money and cards, in VADER's negative vocabulary: the subject of the question.
# fmt: off
TOPIC_WORDS = frozenset({
    "fail", "failed", "failing", "fails", "failure", "reject", "rejected", "rejects", "rejection",
    "refuse", "refused", "deny", "denied", "stolen", "steal", "lost", "lose", "losing", "loss",
    "fraud", "fraudulent", "scam", "dispute", "disputed", "charged", "charges", "problem", "problems",
    "wrong", "broken", "block", "blocked", "cancel", "cancelled", "error", "errors", "debt",
    "suspicious", "missing", "dead", "stuck", "forgotten", "risk", "victim", "hacked",
})
# fmt: on

# The words a 2,000-character message (the default `limits.max_message_chars`) can hold at most.
DEFAULT_MAX_WORDS = 1000
DEFAULT_MAX_EMOJI = 100  # emoji described per message
# How far VADER's checks look around the word at position i: three words before it, two after.
BEFORE, AFTER = 3, 2


class LinearVader(SentimentIntensityAnalyzer):
    """VADER with the same scores in time linear in the message's words; reads `max_emoji` emoji, `max_words` words."""

    def __init__(self, max_words: int = DEFAULT_MAX_WORDS, max_emoji: int = DEFAULT_MAX_EMOJI) -> None:
        super().__init__()
        self.max_words = max_words
        self.max_emoji = max_emoji

    def polarity_scores(self, text: str) -> dict[str, float]:
        described = self.describe_emoji(text)
        if len(described) >= 2 * self.max_words - 1:  # shorter text cannot hold more words than that
            words = described.split()
            if len(words) > self.max_words:
                described = " ".join(words[: self.max_words])
        # No emoji are left, so VADER's own pass over the characters copies the text unchanged.
        return super().polarity_scores(described)

    def describe_emoji(self, text: str) -> str:
        """The first `max_emoji` emoji replaced by their descriptions, spaced exactly as VADER's own first pass
        does; later ones become spaces."""
        out: list[str] = []
        prev_space = True
        described = 0
        for char in text:
            description = self.emojis.get(char)
            if description is not None:
                described += 1
                if described > self.max_emoji:  # left out, but still keeps the words around it apart
                    out.append(" ")
                    prev_space = True
                    continue
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            else:
                out.append(char)
                prev_space = char == " "
        return "".join(out).strip()

    @staticmethod
    def _negation_check(valence: float, words_and_emoticons: list[str], start_i: int, i: int) -> float:
        # VADER reads words i-3 .. i-1 here (never before index 0: its callers check i > start_i).
        start = max(0, i - BEFORE)
        return SentimentIntensityAnalyzer._negation_check(
            valence, words_and_emoticons[start : i + 1], start_i, i - start
        )

    @staticmethod
    def _special_idioms_check(valence: float, words_and_emoticons: list[str], i: int) -> float:
        # Reads words i-3 .. i+2 and compares the list's length with i+1 and i+2: a window up to i+3 keeps both.
        start = max(0, i - BEFORE)
        window = words_and_emoticons[start : i + AFTER + 1]
        return SentimentIntensityAnalyzer._special_idioms_check(valence, window, i - start)

    @staticmethod
    def _but_check(words_and_emoticons: list[str], sentiments: list[float]) -> list[float]:
        """VADER's 'but' check, result for result, without its list.index/pop/insert per word.

        VADER walks the scores in order and rescales the *first* position holding each score's
        value (x0.5 before the first "but", x1.5 after it), so equal scores interact; a heap of
        positions per value finds that first position in O(log n).
        """
        lowered = [str(w).lower() for w in words_and_emoticons]
        if "but" not in lowered:
            return sentiments
        bi = lowered.index("but")
        positions: dict[float, list[int]] = {}
        for position, value in enumerate(sentiments):
            positions.setdefault(value, []).append(position)  # ascending: already a heap
        for k in range(len(sentiments)):
            value = sentiments[k]
            heap = positions[value]
            while sentiments[heap[0]] != value:  # positions whose score has changed since
                heapq.heappop(heap)
            first = heap[0]
            if first == bi:
                continue
            rescaled = value * (0.5 if first < bi else 1.5)
            sentiments[first] = rescaled
            if rescaled != value:
                heapq.heappop(heap)
            heapq.heappush(positions.setdefault(rescaled, []), first)
        return sentiments


class Sentiment:
    """Lexicon-based sentiment; no training, no artifacts."""

    name = "sentiment"

    def __init__(
        self,
        topic_words: Iterable[str] = TOPIC_WORDS,
        max_words: int = DEFAULT_MAX_WORDS,
        max_emoji: int = DEFAULT_MAX_EMOJI,
    ) -> None:
        self.analyzer = LinearVader(max_words, max_emoji)
        for word in topic_words:  # the analyzer's own copy of the lexicon: other instances keep theirs
            self.analyzer.lexicon.pop(word, None)

    def score(self, text: str) -> float:
        return float(self.analyzer.polarity_scores(text)["compound"])

    def __call__(self, turns: Sequence[Turn]) -> None:
        for turn in turns:
            turn.sentiment = self.score(turn.text)
