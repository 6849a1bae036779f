"""VADER sentiment: anger is strongly negative, plain questions are neutral; cost linear, scores VADER's."""

import random
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from agent.steps.sentiment import TOPIC_WORDS, Sentiment
from bench.adversarial_corpus import corpus


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


# --- issue 19: the cost of a message is bounded by its size, the scores stay VADER's ---------------


# Words VADER's checks look around (negations, boosters, "but", idioms), laden words and emoji.
# fmt: off
VOCABULARY = [
    "but", "not", "no", "never", "very", "so", "this", "kind", "of", "at", "least", "without", "doubt",
    "nor", "or", "isn't", "extremely", "barely", "sort", "kiss", "death", "yeah", "right", "cut", "mustard",
    "good", "bad", "love", "hate", "great", "awful", "happy", "sad", "furious", "thanks", "BAD", "GREAT",
    "the", "card", "my", "app", "is", "!!", "😀", "😡", "💔", "👍🏽", "©", ":)", ":(", "?", "!",
]
# fmt: on


def _plain_vader() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    for word in TOPIC_WORDS:
        analyzer.lexicon.pop(word, None)
    return analyzer


def test_scores_are_plain_vaders_number_for_number() -> None:
    plain, ours = _plain_vader(), Sentiment()
    rng = random.Random(19)
    messages = [" ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 60))) for _ in range(600)]
    messages += ["but", "but but", "good but bad but good", "no", "not good", "the book was kind of good"]
    for text in messages:
        assert ours.analyzer.polarity_scores(text) == plain.polarity_scores(text), text


def _cost(sentiment: Sentiment, text: str, runs: int = 7) -> float:
    best = float("inf")
    for _ in range(runs):  # the fastest run: the others measure the machine's other load
        started = time.perf_counter()
        sentiment.score(text)
        best = min(best, time.perf_counter() - started)
    return best


def test_two_thousand_emoji_cost_about_what_two_thousand_characters_of_words_cost() -> None:
    # Plain VADER took ~500x as long for 2,000 emoji as for 2,000 characters of English (2.6 s a message):
    # each emoji became ~3.5 words and every laden word lower-cased the whole message's word list again.
    messages = {m.kind: m.text for m in corpus(2000)}
    sentiment = Sentiment()
    normal = _cost(sentiment, messages["normal"])
    for kind in ("emoji_single", "emoji_mixed", "emoji_skin_tones", "emoji_zwj", "vader_modifiers", "mixed"):
        assert _cost(sentiment, messages[kind]) < 20 * normal, kind


def test_vader_reads_at_most_max_words_once_emoji_are_described() -> None:
    sentiment = Sentiment(max_words=50)
    flood = "😀" * 2000
    described = sentiment.analyzer.describe_emoji(flood).split()
    assert len(described) > 50
    expected = _plain_vader().polarity_scores(" ".join(described[:50]))["compound"]
    assert sentiment.score(flood) == expected
    plain_words = "no " * 49 + "good"  # 50 words: nothing is cut
    assert sentiment.score(plain_words) == _plain_vader().polarity_scores(plain_words)["compound"]


def test_only_the_first_max_emoji_emoji_are_described() -> None:
    sentiment = Sentiment(max_emoji=3)
    assert sentiment.score("😡" * 500) == _plain_vader().polarity_scores("😡😡😡")["compound"]
    assert sentiment.analyzer.describe_emoji("good😀😀😀😀bad") == "good grinning face grinning face grinning face bad"
    assert Sentiment().score("I love it 😍😍") == _plain_vader().polarity_scores("I love it 😍😍")["compound"]
