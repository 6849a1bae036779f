"""`report.html`: the replay report as one self-contained page (plots inlined as PNG, no network).

Plots are drawn with matplotlib's object API (`Figure`, no pyplot), so no GUI
backend or global state is touched; each is embedded as a base64 data URI.
"""

from __future__ import annotations

import base64
import io
from html import escape
from itertools import pairwise
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, ScalarFormatter

REPORT_HTML = "report.html"
LISTED_CHANGES = 200
COLORS = {"correct": "#2e7d32", "wrong": "#c62828", "unlabelled": "#90a4ae"}
SOURCE_COLORS = {
    "faq": "#1565c0",
    "template": "#2e7d32",
    "decoder": "#6a1b9a",
    "ask": "#f9a825",
    "fallback": "#ef6c00",
    "handoff": "#c62828",
}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1150px;color:#222}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
.meta{color:#666} .cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.6rem 1rem;min-width:130px}
.card b{display:block;font-size:1.4rem} .grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
img{max-width:100%;border:1px solid #eee;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.9rem} td,th{border-bottom:1px solid #eee;padding:.3rem .4rem;
text-align:left;vertical-align:top} th{background:#f6f6f6} .num{text-align:right;font-variant-numeric:tabular-nums}
.regression{background:#fdecea} .improvement{background:#e8f5e9} .small{font-size:.8rem;color:#555}
"""


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{escape(alt)}">'


def plot_sources(sources: dict[str, int]) -> str:
    fig = Figure(figsize=(5.2, 3.2))
    ax = fig.subplots()
    names = list(sources)
    values = [sources[n] for n in names]
    ax.barh(names, values, color=[SOURCE_COLORS.get(n, "#607d8b") for n in names])
    ax.invert_yaxis()
    total = max(sum(values), 1)
    for i, value in enumerate(values):
        ax.text(value, i, f" {value / total:.1%}", va="center", fontsize=8)
    ax.set_title("Answer source mix")
    ax.set_xlabel("customer turns")
    return _png(fig)


def plot_confidence(histogram: dict[str, list[float]]) -> str:
    fig = Figure(figsize=(5.2, 3.2))
    ax = fig.subplots()
    edges = histogram["edges"]
    lefts, width = edges[:-1], edges[1] - edges[0]
    bottom = [0.0] * len(lefts)
    for key in ("correct", "wrong", "unlabelled"):
        counts = histogram.get(key, [])
        if any(counts):
            ax.bar(lefts, counts, width=width * 0.95, bottom=bottom, align="edge", color=COLORS[key], label=key)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_xlim(0, 1)
    ax.set_title("Intent confidence (by gold-label verdict)")
    ax.set_xlabel("calibrated confidence")
    ax.set_ylabel("customer turns")
    ax.legend(fontsize=8)
    return _png(fig)


def plot_latency(latency: dict[str, Any]) -> str:
    fig = Figure(figsize=(5.2, 3.2))
    ax = fig.subplots()
    hist = latency.get("histogram") or {}
    edges, counts = hist.get("edges", []), hist.get("counts", [])
    if counts:
        widths = [b - a for a, b in pairwise(edges)]
        ax.bar(edges[:-1], counts, width=widths, align="edge", color="#5c6bc0")
        ax.set_xscale("log")
        # Plain "12", "14" ms ticks: the default log labels read "1.2x10^1".
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(ScalarFormatter())
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)
        for q, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
            if latency.get(q) is not None and latency[q] > 0:
                ax.axvline(latency[q], color="#c62828", linestyle=style, label=f"{q} {latency[q]:.1f} ms")
        ax.legend(fontsize=8)
    ax.set_title("Per-turn latency (share of its batched call)")
    ax.set_xlabel("ms (log scale)")
    ax.set_ylabel("customer turns")
    return _png(fig)


def plot_bars(labels: list[str], values: list[float], title: str, xlabel: str, color: str) -> str:
    fig = Figure(figsize=(5.2, 3.2))  # the same size as its neighbours in the grid, so fonts match
    ax = fig.subplots()
    ax.barh(labels, values, color=color)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of turns: no "1.5 turns" ticks
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return _png(fig)


def _table(
    headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None, classes: list[str] | None = None
) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{escape(_fmt(v))}</td>' if j in numeric else f"<td>{escape(_fmt(v))}</td>"
            for j, v in enumerate(row)
        )
        cls = f' class="{classes[i]}"' if classes else ""
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _card(label: str, value: str) -> str:
    return f'<div class="card"><b>{escape(value)}</b>{escape(label)}</div>'


def render_html(report: dict[str, Any]) -> str:
    """The whole page for one report dict (as built by `build_report`)."""
    run, counts, intents, rates = report.get("run", {}), report["counts"], report["intents"], report["rates"]
    head = "<meta charset='utf-8'><title>Replay report</title>"
    parts = [f"<!doctype html><html lang='en'><head>{head}<style>{CSS}</style></head><body>"]
    parts.append("<h1>Replay report</h1>")
    if run:
        parts.append(
            f"<p class='meta'>Bot <b>{escape(str(run.get('bot_name')))}</b> ({escape(str(run.get('bot')))}) · input "
            f"{escape(str(run.get('input')))} · engine {escape(str(run.get('engine')))} · started "
            f"{escape(str(run.get('started_at')))}{' · <b>interrupted</b>' if run.get('interrupted') else ''}</p>"
        )
    cards = [
        _card("conversations", f"{counts['conversations']:,}"),
        _card("customer turns", f"{counts['customer_turns']:,}"),
        _card("intent accuracy", _pct(intents["accuracy"]) + f" of {intents['labelled_turns']:,}"),
        _card("first turns", _pct(intents.get("first_turn_accuracy"))),
        _card("follow-ups", _pct(intents.get("follow_up_accuracy"))),
        _card("fallback rate", _pct(rates["fallback"])),
        _card("handoff rate", _pct(rates["handoff"])),
        _card("skipped input", f"{counts['skipped_input']:,}"),
    ]
    if run.get("turns_per_second"):
        cards.append(_card("turns / second", f"{run['turns_per_second']:,.1f}"))
    if rates.get("decoder_accepted") is not None:
        cards.append(_card("decoder accepted", _pct(rates["decoder_accepted"])))
    parts.append(f"<div class='cards'>{''.join(cards)}</div>")

    plots = [
        _img(plot_sources(report["sources"]), "answer sources"),
        _img(plot_confidence(report["confidence_histogram"]), "confidence histogram"),
        _img(plot_latency(report["latency_ms"]), "latency histogram"),
    ]
    if intents["confusions"]:
        top = intents["confusions"][:10]
        labels = [f"{c['gold']} → {c['predicted']}" for c in top]
        plots.append(
            _img(
                plot_bars(labels, [c["count"] for c in top], "Most frequent confusions", "turns", "#c62828"),
                "confusions",
            )
        )
    parts.append("<h2>Overview</h2><div class='grid'>" + "".join(plots) + "</div>")

    latency = report["latency_ms"]
    parts.append("<h2>Latency (ms per turn)</h2>")
    parts.append(
        _table(
            ["p50", "p90", "p95", "p99", "max", "mean"],
            [[latency.get(k) for k in ("p50", "p90", "p95", "p99", "max", "mean")]],
            numeric=set(range(6)),
        )
    )
    steps = latency.get("per_step_mean", {})
    if steps:
        parts.append(
            "<p class='small'>Mean per step: " + escape(", ".join(f"{k} {v:.2f}" for k, v in steps.items())) + "</p>"
        )
    parts.append("<h3>Slowest turns</h3>")
    parts.append(
        "<p class='small'>A turn's time is its batched call's time divided by the turns in that batch, "
        "so the turns of the slowest batch come first, with equal times.</p>"
    )
    parts.append(
        _table(
            ["conversation", "turn", "text", "ms", "source", "batch"],
            [
                [t["conversation_id"], t["turn"], t["text"], t["latency_ms"], t["source"], t["batch_size"]]
                for t in report["slowest_turns"]
            ],
            numeric={1, 3, 5},
        )
    )

    if intents["labelled_turns"]:
        parts.append(
            "<h2>Intents against gold labels</h2>"
            f"<p>{intents['correct']:,} of {intents['labelled_turns']:,} correct ({_pct(intents['accuracy'])}): "
            f"first turns {_pct(intents.get('first_turn_accuracy'))}, follow-ups "
            f"{_pct(intents.get('follow_up_accuracy'))}; in-scope turns refused "
            f"{_pct(intents.get('in_scope_refused'))}, out-of-scope turns caught {_pct(intents.get('oos_recall'))}.</p>"
        )
        parts.append("<h3>Most frequent confusions</h3>")
        parts.append(
            _table(
                ["gold", "predicted", "turns", "example"],
                [[c["gold"], c["predicted"], c["count"], c["example"]] for c in intents["confusions"]],
                numeric={2},
            )
        )
        worst = [i for i in intents["per_intent"] if i["accuracy"] < 1][:25]
        if worst:
            parts.append("<h3>Intents with errors (worst first)</h3>")
            parts.append(
                _table(
                    ["intent", "support", "correct", "accuracy"],
                    [[i["intent"], i["support"], i["correct"], _pct(i["accuracy"])] for i in worst],
                    numeric={1, 2, 3},
                )
            )

    changes = report.get("changes")
    if changes is not None:
        parts.append(_changes_section(changes))
    problems = report.get("input_problems") or []
    if problems:
        parts.append(
            f"<h2>Skipped input ({counts['skipped_input']:,})</h2><ul>"
            + "".join(f"<li>{escape(p)}</li>" for p in problems)
            + "</ul>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _changes_section(changes: dict[str, Any]) -> str:
    parts = [f"<h2>Changes since {escape(changes['previous'])}</h2>"]
    parts.append(
        "<div class='cards'>"
        + _card("regressions", f"{changes['regressions']:,}")
        + _card("improvements", f"{changes['improvements']:,}")
        + _card("other changes", f"{changes['other_changes']:,}")
        + _card("intent changed", f"{changes['intent_changed']:,}")
        + _card("source changed", f"{changes['source_changed']:,}")
        + _card("turns compared", f"{changes['compared_turns']:,}")
        + "</div>"
    )
    if changes.get("labelled_compared"):
        parts.append(
            f"<p>Accuracy on the {changes['labelled_compared']:,} labelled turns both runs replayed: "
            f"{_pct(changes['previous_accuracy'])} before, {_pct(changes['current_accuracy'])} now.</p>"
        )
    turns = changes["turns"][:LISTED_CHANGES]
    rows = [
        [
            c["kind"],
            c["conversation_id"],
            c["turn"],
            c["text"],
            c["gold_intent"],
            f"{c['previous']['intent']} / {c['previous']['source']}",
            f"{c['current']['intent']} / {c['current']['source']}",
        ]
        for c in turns
    ]
    parts.append(
        _table(
            ["kind", "conversation", "turn", "text", "gold", "before (intent / source)", "now"],
            rows,
            numeric={2},
            classes=[c["kind"] for c in turns],
        )
    )
    if changes["listed"] > len(turns):
        parts.append(f"<p class='small'>First {len(turns)} shown; report.json lists {changes['listed']}.</p>")
    return "".join(parts)


def write_html(folder: Path, report: dict[str, Any]) -> Path:
    path = folder / REPORT_HTML
    path.write_text(render_html(report), encoding="utf-8")
    return path
