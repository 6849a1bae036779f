"""Demo bot intent accuracy on public data: Banking77 test and CLINC150 out-of-scope recall.

The demo bot is trained only on its own examples (knowledge/intents.yaml); this
script reads the datasets by path and prints one JSON object.

    python -m bench.intent_accuracy [--bot .]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from agent import load_trained
from bench.common import machine, read_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bot", default=".")
    args = parser.parse_args()
    agent = load_trained(args.bot, decoder=False, store_url="sqlite:///:memory:")
    classifier = next(step for step in agent.steps if step.name == "intent")

    def predict(texts: list[str]) -> list[str]:
        vectors = agent.encoder.encode(texts, progress=True)  # type: ignore[attr-defined]
        return [p.name for p in classifier.predict(vectors, texts=texts)]  # type: ignore[attr-defined]

    started = time.perf_counter()
    banking = read_rows("banking77/test.csv")
    predicted = predict([r["text"] for r in banking])
    accuracy = float(np.mean([p == r["category"] for p, r in zip(predicted, banking, strict=True)]))
    flagged_oos = float(np.mean([p == "oos" for p in predicted]))

    clinc_oos = [r["text"] for r in read_rows("clinc150/val.csv") if r["label"] == "oos"]
    oos_recall = float(np.mean([p == "oos" for p in predict(clinc_oos)]))
    print(
        json.dumps(
            {
                "benchmark": "demo_bot_intent_accuracy",
                "banking77_test_accuracy": round(accuracy, 4),
                "banking77_test_n": len(banking),
                "banking77_predicted_oos_rate": round(flagged_oos, 4),
                "clinc150_val_oos_recall": round(oos_recall, 4),
                "clinc150_val_oos_n": len(clinc_oos),
                "oos_threshold": agent.config.intents.oos_threshold,
                "seconds": round(time.perf_counter() - started, 1),
                **machine(),
            },
            indent=1,
        )
    )
    agent.close()


if __name__ == "__main__":
    main()
