"""Answers from the help-centre pages: right page, values supported, and what it must not answer.

Plays each question of bench/docs_questions.yaml (questions only the demo's pages
answer, written for this benchmark) through the bot in a fresh conversation and counts
those answered from the page they name (source `docs`, best passage on that page, the
expected phrase in the reply), and the values of each quoted reply its passage does not
state. The out-of-scope rows of CLINC150's val split measure the other side: how many of
those messages a page answers (they should all get the fallback), and every sixth row of
Banking77's test split with the messages of the quality set (bench/quality_set.yaml) how
many in-domain questions a page now answers instead of their FAQ entry or template
(`changed`: the reply differs from the one with the pages off). `--thresholds` and
`--margins` rerun all of it at other `docs.answer_threshold` / `docs.over_intent_margin`.

    python -m bench.docs_answers [--bot .] [--thresholds 0.45,0.55] [--margins -0.05,0.05]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from agent import load_trained
from agent.steps.decoder.guard import claims
from agent.steps.docs import DocsIndex
from bench.common import ROOT, machine, read_rows

QUESTIONS = ROOT / "bench" / "docs_questions.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--thresholds", default="", help="comma-separated docs.answer_threshold values to try")
    parser.add_argument("--margins", default="", help="comma-separated docs.over_intent_margin values to try")
    args = parser.parse_args()
    questions = yaml.safe_load(QUESTIONS.read_text())["questions"]
    negatives = [row["text"] for row in read_rows("clinc150/val.csv") if row["label"] == "oos"]
    in_domain = [row["text"] for row in read_rows("banking77/test.csv")][::6]
    in_domain += [
        item["message"] for item in yaml.safe_load((ROOT / "bench" / "quality_set.yaml").read_text())["items"]
    ]
    agent = load_trained(args.bot, store_url="sqlite:///:memory:", decoder=False)
    docs = agent.step(DocsIndex)
    base = docs.config
    docs.config = base.model_copy(update={"enabled": False})
    without = [agent.respond(f"off-{i}", text).text for i, text in enumerate(in_domain)]
    settings = [(base.answer_threshold, base.over_intent_margin)]
    settings += [(float(t), base.over_intent_margin) for t in args.thresholds.split(",") if t]
    settings += [(base.answer_threshold, float(m)) for m in args.margins.split(",") if m]
    runs = []
    for threshold, margin in settings:
        docs.config = base.model_copy(update={"answer_threshold": threshold, "over_intent_margin": margin})
        run = _run(agent, questions, negatives, f"{threshold}/{margin}")
        changed = sum(
            agent.respond(f"on-{threshold}-{margin}-{i}", t).text != before
            for i, (t, before) in enumerate(zip(in_domain, without, strict=True))
        )
        share = round(changed / len(in_domain), 3)
        setting = {"answer_threshold": threshold, "over_intent_margin": margin}
        runs.append({**setting, **run, "in_domain_changed": share, "in_domain_rows": len(in_domain)})
    agent.close()
    print(json.dumps({"benchmark": "docs_answers", "bot": str(Path(args.bot)), "runs": runs, **machine()}, indent=1))


def _run(agent, questions: list[dict], negatives: list[str], threshold: str) -> dict:
    rows, right, unsupported, top_page = [], 0, 0, 0
    for i, question in enumerate(questions):
        reply = agent.respond(f"q{threshold}-{i}", question["text"])
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
    answered_oos = sum(agent.respond(f"n{threshold}-{i}", t).source == "docs" for i, t in enumerate(negatives))
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
