"""Choosing the context step's settings by cross-validation on the bot's own example conversations.

The settings of `dialog.context` (agent/steps/context.py) are chosen here, never on a
measuring set: the example conversations of the bot folder (`dialogs/conversations.yaml`)
are split into `--folds` folds; for each fold the follow-on prior counts the transitions
of the other folds only, and the fold's conversations are played through the bot (a
fresh in-memory store per run). Every combination of the grid is scored the same way;
the JSON lists each with its figures, best first (by accuracy, then fewer in-scope refusals).

    python -m bench.context_cv [--bot .] [--folds 5]
"""

from __future__ import annotations

import argparse
import itertools
import json

from agent import load_trained
from agent.bot.schemas import ConversationsFile
from agent.replay.runner import LocalEngine
from agent.replay.scores import score
from agent.steps.context import ContextReader, FollowOnPrior
from agent.steps.intents import IntentClassifier
from agent.storage.store import Store
from bench.common import machine

GRID = {
    "switch_confidence": [0.9, 1.01],
    "keep_out_of_scope": [0.9, 0.97, 1.01],
    "alone_weight": [0.5, 1.0],
    "context_weight": [0.5, 1.0],
    "prior_weight": [0.5, 1.0],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    agent = load_trained(args.bot, store_url="sqlite:///:memory:", decoder=False)
    reader = agent.step(ContextReader)
    classifier = agent.step(IntentClassifier)
    conversations = agent.bot.conversations.conversations
    folds = [conversations[k :: args.folds] for k in range(args.folds)]
    base = agent.config.dialog.context
    results = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values, strict=True))
        reader.config = base.model_copy(update=setting)
        rows = []
        for k, fold in enumerate(folds):
            others = [conv for j, part in enumerate(folds) if j != k for conv in part]
            temperature = float(setting.get("similarity_temperature", base.similarity_temperature))
            reader.prior = FollowOnPrior.build(
                classifier,
                ConversationsFile(conversations=others),
                temperature,
                base.prior_strength,
                base.topic_free_after,
            )
            agent.store.close()
            agent.store = Store("sqlite:///:memory:")  # every run starts with no conversation state
            rows += [row for step in LocalEngine(agent).steps(fold) for done in step.finished for row in done]
        results.append({"setting": setting, **score(rows).as_dict()})
    agent.close()
    results.sort(key=lambda r: (-(r["accuracy"] or 0), r["in_scope_refused"] or 0))
    print(
        json.dumps(
            {
                "benchmark": "context_cv",
                "conversations": len(conversations),
                "folds": args.folds,
                "fixed": {"similarity_temperature": base.similarity_temperature, "prior_strength": base.prior_strength},
                "best": results[0],
                "all": results,
                **machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
