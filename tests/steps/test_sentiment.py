"""VADER sentiment: anger is strongly negative, plain questions are neutral."""

from agent.steps.sentiment import Sentiment


def test_scores() -> None:
    sentiment = Sentiment()
    assert sentiment.score("This is the worst bank ever, I am furious and fed up") < -0.7
    assert sentiment.score("how much does a transfer cost") == 0.0
    assert sentiment.score("thanks, that was great help") > 0.5
