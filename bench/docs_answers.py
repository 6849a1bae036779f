"""Answers from the help-centre pages: right page, values supported, and what it must not answer.

Plays each question of bench/docs_questions.yaml (questions only the demo's pages
answer, written for this benchmark) through the bot in a fresh conversation and counts
those answered from the page they name (source `docs`, best passage on that page, the
expected phrase in the reply), and the values of each quoted reply its passage does not
state. The out-of-scope rows of CLINC150's val split measure the other side: how many of
those messages a page answers (they should all get the fallback), and every sixth row of
Banking77's test split with the messages of the quality set (bench/quality_set.yaml) how
many in-domain questions a page now answers instead of their FAQ entry or template
(`changed`: the reply differs from the one with the pages off; `template_replaced`: of
those, the ones a confident intent's own template answered, or asked a detail for, before).

`--tune` chooses the settings on training data instead: the questions of
bench/docs_questions_train.yaml (written apart from the reported ones) against every
fifth row of Banking77's train split, over the grid of `--thresholds` x `--margins`; the
chosen setting answers the most training questions from the right page while replacing
at most `--max-replaced` (1 %) of the in-domain replies a confident intent gave and
answering at most `--max-oos` (1 %) of the out-of-scope rows from a page.

    python -m bench.docs_answers [--bot .] [--thresholds 0.45,0.55] [--margins -0.05,0.05]
    python -m bench.docs_answers --tune --thresholds 0.4,0.45,0.5 --margins -0.1,-0.05,0,0.05
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from agent import load_trained
from agent.pipeline.dialog import Agent
from agent.steps.decoder.guard import claims
from agent.steps.docs import DocsIndex
from agent.types import Reply
from bench.common import ROOT, machine, read_rows

QUESTIONS = ROOT / "bench" / "docs_questions.yaml"
TRAINING_QUESTIONS = ROOT / "bench" / "docs_questions_train.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--thresholds", default="", help="comma-separated docs.answer_threshold values to try")
    parser.add_argument("--margins", default="", help="comma-separated docs.over_intent_margin values to try")
    parser.add_argument("--tune", action="store_true", help="choose the settings on the training questions")
    parser.add_argument("--max-replaced", type=float, default=0.01, help="--tune: most template replies replaced")
    parser.add_argument("--max-oos", type=float, default=0.01, help="--tune: most CLINC oos rows a page answers")
    args = parser.parse_args()
    agent = load_trained(args.bot, store_url="sqlite:///:memory:", decoder=False)
    docs = agent.step(DocsIndex)
    base = docs.config
    thresholds = [float(t) for t in args.thresholds.split(",") if t]
    margins = [float(m) for m in args.margins.split(",") if m]
    negatives = [row["text"] for row in read_rows("clinc150/val.csv") if row["label"] == "oos"]
    quality: list[dict] = []  # the quality set's items, at the end of `in_domain` (report runs only)
    if args.tune:
        questions = yaml.safe_load(TRAINING_QUESTIONS.read_text())["questions"]
        in_domain = [row["text"] for row in read_rows("banking77/train.csv")][::5]
        settings = [(t, m) for t in thresholds or [base.answer_threshold] for m in margins or [base.over_intent_margin]]
    else:
        questions = yaml.safe_load(QUESTIONS.read_text())["questions"]
        in_domain = [row["text"] for row in read_rows("banking77/test.csv")][::6]
        quality = yaml.safe_load((ROOT / "bench" / "quality_set.yaml").read_text())["items"]
        in_domain += [item["message"] for item in quality]
        settings = [(base.answer_threshold, base.over_intent_margin)]
        settings += [(t, base.over_intent_margin) for t in thresholds]
        settings += [(base.answer_threshold, m) for m in margins]
    docs.config = base.model_copy(update={"enabled": False})
    without = [agent.respond(f"off-{i}", text) for i, text in enumerate(in_domain)]
    runs = []
    for threshold, margin in settings:
        docs.config = base.model_copy(update={"answer_threshold": threshold, "over_intent_margin": margin})
        run = _run(agent, questions, negatives, f"{threshold}/{margin}")
        replies = [agent.respond(f"on-{threshold}-{margin}-{i}", t) for i, t in enumerate(in_domain)]
        changed = [i for i, (now, before) in enumerate(zip(replies, without, strict=True)) if now.text != before.text]
        # A confident intent's own reply: its template, or the question its template asks for a missing detail.
        replaced = sum(without[i].source in ("template", "ask") and replies[i].source == "docs" for i in changed)
        setting = {"answer_threshold": threshold, "over_intent_margin": margin}
        figures = {
            "in_domain_changed": round(len(changed) / len(in_domain), 3),
            "in_domain_template_replaced": round(replaced / len(in_domain), 3),
            "in_domain_rows": len(in_domain),
        }
        if quality:  # issue 3's figure with the decoder off: every required fact in the reply
            figures["quality_fact_accuracy_pages_off"] = _fact_accuracy(quality, without[-len(quality) :])
            figures["quality_fact_accuracy"] = _fact_accuracy(quality, replies[-len(quality) :])
        runs.append({**setting, **run, **figures})
    agent.close()
    report = {"benchmark": "docs_answers", "bot": str(Path(args.bot)), "tune": args.tune, "runs": runs}
    if args.tune:
        allowed = [
            r
            for r in runs
            if r["in_domain_template_replaced"] <= args.max_replaced
            and r["clinc_oos_answered_from_pages"] <= args.max_oos
        ] or runs
        best = max(allowed, key=lambda r: (r["answered_from_right_page"], -r["in_domain_changed"]))
        report["chosen"] = {
            "answer_threshold": best["answer_threshold"],
            "over_intent_margin": best["over_intent_margin"],
        }
        for run in runs:
            run.pop("misses")  # the training questions' misses are not the point of a tuning run
    print(json.dumps({**report, **machine()}, indent=1))


def _fact_accuracy(items: list[dict], replies: list[Reply]) -> float:
    right = sum(
        all(fact in reply.text for fact in item["required_facts"]) for item, reply in zip(items, replies, strict=True)
    )
    return round(right / len(items), 3)


def _run(agent: Agent, questions: list[dict], negatives: list[str], tag: str) -> dict:
    rows, right, unsupported, top_page = [], 0, 0, 0
    for i, question in enumerate(questions):
        reply = agent.respond(f"q{tag}-{i}", question["text"])
        best = reply.passages[0] if reply.passages else None
        on_page = best is not None and best.page == question["page"]
        top_page += on_page
        answered = reply.source == "docs" and on_page and question["expect"].lower() in reply.text.lower()
        right += answered
        missing = (
            sorted(claims(reply.text.split("\n\n(From")[0]) - claims(best.text))
            if reply.source == "docs" and best
            else []
        )
        unsupported += len(missing)
        found = {"best_page": best.page if best else None, "score": best.score if best else None}
        asked = {"text": question["text"], "page": question["page"], "source": reply.source}
        rows.append({**asked, **found, "right": answered, "unsupported": missing})
    answered_oos = sum(agent.respond(f"n{tag}-{i}", t).source == "docs" for i, t in enumerate(negatives))
    return {
        "questions": len(questions),
        "answered_from_right_page": round(right / len(questions), 3),
        "best_passage_on_right_page": round(top_page / len(questions), 3),
        "unsupported_values": unsupported,
        "clinc_oos_answered_from_pages": round(answered_oos / len(negatives), 3),
        "clinc_oos_rows": len(negatives),
        "misses": [r for r in rows if not r["right"]],
    }


if __name__ == "__main__":
    main()
