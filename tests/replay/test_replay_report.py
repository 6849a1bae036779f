"""The report on a small set of results with known answers; the comparison of two runs; the HTML page."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from agent.replay.compare import compare_runs
from agent.replay.html import render_html, write_html
from agent.replay.report import build_report, percentile, write_report
from agent.replay.results import ResultsFile, TurnResult


def turn(
    conv: str, ordinal: int, total: int, gold: str | None, intent: str, source: str, **extra: object
) -> TurnResult:
    data: dict[str, object] = {
        "conversation_id": conv,
        "turn": ordinal * 2,
        "customer_turn": ordinal,
        "customer_turns": total,
        "text": extra.pop("text", f"{conv}-{ordinal}"),
        "gold_intent": gold,
        "intent": intent,
        "confidence": extra.pop("confidence", 0.9),
        "source": source,
        "reply": extra.pop("reply", f"reply {intent}"),
        "handoff": source == "handoff",
        "latency_ms": extra.pop("latency_ms", 10.0),
        "timings_ms": {"encoder": 8.0, "policy": 2.0},
    }
    data.update(extra)
    return TurnResult.model_validate(data)


def save(folder: Path, rows: list[TurnResult]) -> Path:
    by_conv: dict[str, list[TurnResult]] = {}
    for r in rows:
        by_conv.setdefault(r.conversation_id, []).append(r)
    results = ResultsFile(folder)
    results.open(resume=False)
    results.write(list(by_conv.values()))
    results.close()
    return folder


# Ten turns in four conversations, with answers known by construction.
KNOWN = [
    turn("a", 0, 3, "card_arrival", "card_arrival", "template", confidence=0.95, latency_ms=5.0),
    turn("a", 1, 3, "card_arrival", "card_linking", "template", confidence=0.55, latency_ms=6.0, text="where's it"),
    turn("a", 2, 3, "thanks", "thanks", "template", confidence=0.85, latency_ms=7.0),
    turn("b", 0, 2, "oos", "oos", "fallback", confidence=0.05, latency_ms=8.0),
    turn("b", 1, 2, "oos", "oos", "handoff", confidence=0.12, latency_ms=9.0),
    turn("c", 0, 3, "card_arrival", "card_linking", "faq", confidence=0.35, latency_ms=10.0, text="card?"),
    turn("c", 1, 3, "top_up_failed", "top_up_reverted", "template", confidence=0.65, latency_ms=11.0),
    turn("c", 2, 3, None, "greeting", "ask", confidence=0.75, latency_ms=12.0),
    turn("d", 0, 2, None, "oos", "fallback", confidence=0.25, latency_ms=13.0),
    turn("d", 1, 2, None, "exchange_rate", "faq", confidence=0.99, latency_ms=100.0, text="slow <b>one</b>"),
]


def test_report_contents_on_known_results(tmp_path: Path) -> None:
    report = build_report(save(tmp_path, KNOWN), problems=["log.jsonl line 3: not valid JSON; skipped"])
    assert report["counts"] == {"conversations": 4, "customer_turns": 10, "labelled_turns": 7, "skipped_input": 1}
    intents = report["intents"]
    assert (intents["correct"], intents["labelled_turns"], intents["accuracy"]) == (4, 7, round(4 / 7, 4))
    assert intents["confusions"][0] == {
        "gold": "card_arrival",
        "predicted": "card_linking",
        "count": 2,
        "example": "where's it",
    }
    assert intents["confusions"][1]["gold"] == "top_up_failed" and intents["confusions"][1]["count"] == 1
    per_intent = {i["intent"]: (i["support"], i["correct"]) for i in intents["per_intent"]}
    assert per_intent == {"card_arrival": (3, 1), "thanks": (1, 1), "oos": (2, 2), "top_up_failed": (1, 0)}
    assert intents["per_intent"][0]["intent"] == "top_up_failed"  # worst first
    assert report["rates"]["fallback"] == 0.2 and report["rates"]["handoff"] == 0.1
    assert report["rates"]["handoff_conversations"] == 0.25 and report["rates"]["ask"] == 0.1
    assert report["sources"] == {"template": 4, "fallback": 2, "faq": 2, "handoff": 1, "ask": 1}
    histogram = report["confidence_histogram"]
    assert histogram["edges"][0] == 0.0 and histogram["edges"][-1] == 1.0
    assert histogram["correct"] == [1, 1, 0, 0, 0, 0, 0, 0, 1, 1]  # 0.05, 0.12, 0.85, 0.95
    assert histogram["wrong"] == [0, 0, 0, 1, 0, 1, 1, 0, 0, 0]  # 0.35, 0.55, 0.65
    assert histogram["unlabelled"] == [0, 0, 1, 0, 0, 0, 0, 1, 0, 1]  # 0.25, 0.75, 0.99
    latency = report["latency_ms"]
    assert (latency["p50"], latency["p90"], latency["p99"], latency["max"]) == (9.0, 13.0, 100.0, 100.0)
    assert latency["mean"] == 18.1 and latency["per_step_mean"] == {"encoder": 8.0, "policy": 2.0}
    assert sum(latency["histogram"]["counts"]) == 10
    slowest = report["slowest_turns"]
    assert [s["latency_ms"] for s in slowest[:3]] == [100.0, 13.0, 12.0] and len(slowest) == 10
    assert report["input_problems"] == ["log.jsonl line 3: not valid JSON; skipped"]
    assert "changes" not in report
    written = json.loads(write_report(tmp_path, report).read_text())
    assert written["counts"] == report["counts"]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (50.0, 95.0, 100.0)
    assert percentile([3.0], 99) == 3.0


def test_compare_lists_regressions_first(tmp_path: Path) -> None:
    before = save(
        tmp_path / "before",
        [
            turn("a", 0, 2, "card_arrival", "card_arrival", "template"),  # right -> wrong: regression
            turn("a", 1, 2, "thanks", "goodbye", "template"),  # wrong -> right: improvement
            turn("b", 0, 1, None, "exchange_rate", "faq"),  # answered -> fallback: regression
            turn("c", 0, 1, None, "oos", "fallback"),  # fallback -> answered: improvement
            turn("d", 0, 1, None, "greeting", "template"),  # template -> faq, same intent: changed
            turn("e", 0, 1, "oos", "oos", "fallback"),  # unchanged
            turn("gone", 0, 1, None, "oos", "fallback"),  # only before
        ],
    )
    after = save(
        tmp_path / "after",
        [
            turn("a", 0, 2, "card_arrival", "card_linking", "template"),
            turn("a", 1, 2, "thanks", "thanks", "template"),
            turn("b", 0, 1, None, "exchange_rate", "fallback"),
            turn("c", 0, 1, None, "exchange_rate", "faq"),
            turn("d", 0, 1, None, "greeting", "faq"),
            turn("e", 0, 1, "oos", "oos", "fallback"),
            turn("new", 0, 1, None, "oos", "fallback"),  # only after
        ],
    )
    changes = compare_runs(after, before)
    assert (changes["regressions"], changes["improvements"], changes["other_changes"]) == (2, 2, 1)
    assert (changes["compared_turns"], changes["only_in_current"], changes["only_in_previous"]) == (6, 1, 1)
    assert (changes["intent_changed"], changes["source_changed"]) == (3, 3)
    assert [(c["kind"], c["conversation_id"], c["turn"]) for c in changes["turns"]] == [
        ("regression", "a", 0),
        ("regression", "b", 0),
        ("changed", "d", 0),
        ("improvement", "a", 2),
        ("improvement", "c", 0),
    ]
    assert changes["turns"][0]["previous"]["intent"] == "card_arrival"
    assert changes["turns"][0]["current"]["intent"] == "card_linking"
    assert (changes["previous_accuracy"], changes["current_accuracy"]) == (round(2 / 3, 4), round(2 / 3, 4))
    report = build_report(after, previous=before)
    assert report["changes"]["regressions"] == 2


def test_html_is_self_contained_with_plots(tmp_path: Path) -> None:
    folder = save(tmp_path / "run", KNOWN)
    save(tmp_path / "prev", [turn("a", 0, 3, "card_arrival", "card_linking", "faq")])
    report = build_report(folder, previous=tmp_path / "prev", problems=["x line 2: <script>alert(1)</script>"])
    path = write_html(folder, report)
    page = path.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 4  # sources, confidence, latency, confusions
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    assert not re.search(r"(src|href)=[\"']?https?:", page)  # opens with no network
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "slow &lt;b&gt;one&lt;/b&gt;" in page
    assert "Changes since" in page and "improvement" in page


def test_html_of_an_unlabelled_log_has_no_accuracy_section(tmp_path: Path) -> None:
    rows = [turn("a", 0, 1, None, "greeting", "template")]
    page = render_html(build_report(save(tmp_path, rows)))
    assert "Intents against gold labels" not in page
    assert page.count("data:image/png;base64,") == 3
