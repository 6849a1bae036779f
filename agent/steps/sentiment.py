"""Step 4: sentiment of the customer's message (VADER lexicon), for handoff on strong anger.

VADER's compound score runs from -1 (very negative) to +1 (very positive);
the dialog manager hands over below `dialog.negative_sentiment` in bot.yaml.
"""

from __future__ import annotations

from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from agent.types import Turn


class Sentiment:
    """Lexicon-based sentiment; no training, no artifacts."""

    name = "sentiment"

    def __init__(self) -> None:
        self.analyzer = SentimentIntensityAnalyzer()

    def score(self, text: str) -> float:
        return float(self.analyzer.polarity_scores(text)["compound"])

    def __call__(self, turns: Sequence[Turn]) -> None:
        for turn in turns:
            turn.sentiment = self.score(turn.text)
