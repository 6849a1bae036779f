"""Step 4: sentiment of the customer's message (VADER lexicon), for handoff on strong anger.

VADER's compound score runs from -1 (very negative) to +1 (very positive);
the dialog manager hands over below `dialog.negative_sentiment` in bot.yaml.

VADER is a general-purpose lexicon: it reads "failed", "stolen", "fraud" and
"rejected" as strongly negative, yet in a support chat they name the topic,
not the customer's mood ("my payment failed, do I lose the money?" scored -0.72
and was handed to a person instead of answered). Those topic words are taken
out of the lexicon; words of feeling ("furious", "useless", "worst") stay.
"""

from __future__ import annotations

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


class Sentiment:
    """Lexicon-based sentiment; no training, no artifacts."""

    name = "sentiment"

    def __init__(self, topic_words: Iterable[str] = TOPIC_WORDS) -> None:
        self.analyzer = SentimentIntensityAnalyzer()
        for word in topic_words:  # the analyzer's own copy of the lexicon: other instances keep theirs
            self.analyzer.lexicon.pop(word, None)

    def score(self, text: str) -> float:
        return float(self.analyzer.polarity_scores(text)["compound"])

    def __call__(self, turns: Sequence[Turn]) -> None:
        for turn in turns:
            turn.sentiment = self.score(turn.text)
