"""The sentiment step before and after issue 19, on real messages: the same scores, and what each costs.

"Before" is plain VADER with the step's topic words removed (agent/steps/sentiment.py
until issue 19); "after" is the step as it is (`LinearVader`: windowed checks, a linear
"but" check, at most `max_words` words). Messages: Banking77 train + test, CLINC150
train + val, the customer turns of meridian_conversations and StackFAQ's queries (read
by path), then the adversarial corpus (bench/adversarial_corpus.py) for the cost.

    python -m bench.sentiment_agreement [--max-words 1000]

Prints JSON: how many compound scores are identical, the largest difference, how many
handoff decisions (compound below the demo's `dialog.negative_sentiment`) differ, and
the mean and worst time per message before and after.
"""

from __future__ import annotations

import argparse
import json
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from agent.config.understanding import DialogConfig
from agent.steps.sentiment import DEFAULT_MAX_WORDS, TOPIC_WORDS, Sentiment
from bench.adversarial_corpus import corpus
from bench.common import DATASETS, machine, read_rows


def public_messages() -> dict[str, list[str]]:
    """The customer messages of the public datasets, by dataset."""
    meridian = []
    with open(DATASETS / "meridian_conversations" / "dev.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                turns = json.loads(line)["turns"]
                meridian += [t["text"] for t in turns if t["role"] == "customer"]
    return {
        "banking77": [r["text"] for name in ("train", "test") for r in read_rows(f"banking77/{name}.csv")],
        "clinc150": [r["text"] for name in ("train", "val") for r in read_rows(f"clinc150/{name}.csv")],
        "meridian_conversations": meridian,
        "stackfaq": [r["text"] for r in read_rows("stackfaq/queries_dev.csv")],
    }


def timed(score, text: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = score(text)
    return value, (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-words", type=int, default=DEFAULT_MAX_WORDS)
    args = parser.parse_args()
    before = SentimentIntensityAnalyzer()
    for word in TOPIC_WORDS:
        before.lexicon.pop(word, None)
    after = Sentiment(max_words=args.max_words)
    threshold = DialogConfig().negative_sentiment
    datasets = {}
    for name, texts in public_messages().items():
        same = handoff_differs = 0
        largest = 0.0
        ms_before, ms_after = [], []
        for text in texts:
            old, old_ms = timed(lambda t: before.polarity_scores(t)["compound"], text)
            new, new_ms = timed(after.score, text)
            same += old == new
            largest = max(largest, abs(old - new))
            handoff_differs += (old < threshold) != (new < threshold)
            ms_before.append(old_ms)
            ms_after.append(new_ms)
        datasets[name] = {
            "messages": len(texts),
            "identical_scores": same,
            "largest_difference": round(largest, 4),
            "handoff_decisions_differ": handoff_differs,
            "mean_ms_before": round(sum(ms_before) / len(texts), 4),
            "mean_ms_after": round(sum(ms_after) / len(texts), 4),
        }
    adversarial = {}
    for message in corpus():  # the fastest of three runs each
        old_ms = min(timed(lambda t: before.polarity_scores(t)["compound"], message.text)[1] for _ in range(3))
        new_ms = min(timed(after.score, message.text)[1] for _ in range(3))
        adversarial[message.kind] = {"ms_before": round(old_ms, 2), "ms_after": round(new_ms, 2)}
    worst = max(adversarial, key=lambda k: adversarial[k]["ms_before"])
    print(
        json.dumps(
            {
                "benchmark": "sentiment_before_after",
                "max_words": args.max_words,
                "handoff_threshold": threshold,
                "datasets": datasets,
                "adversarial_worst_before": {"kind": worst, **adversarial[worst]},
                "adversarial": adversarial,
                "machine": machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
