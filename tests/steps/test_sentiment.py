"""VADER sentiment: anger is strongly negative, plain questions are neutral."""

from agent.steps.sentiment import Sentiment


def test_scores() -> None:
    sentiment = Sentiment()
    assert sentiment.score("This is the worst bank ever, I am furious and fed up") < -0.7
    assert sentiment.score("how much does a transfer cost") == 0.0
    assert sentiment.score("thanks, that was great help") > 0.5


def test_banking_topics_are_not_anger() -> None:
    message = "the app says my payment to the plumber failed - do I lose that money?"
    assert Sentiment().score(message) > -0.3
    assert Sentiment(topic_words=()).score(message) < -0.7  # plain VADER would hand this customer over
    assert Sentiment().score("your app is useless garbage and I hate it, my card failed again") < -0.7
