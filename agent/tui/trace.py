"""Why a reply was given: a reply's trace turned into titled, styled sections for the side panel.

The input is a `Trace` (agent.types: `reply.trace()` for a live reply, the
store's for a reopened conversation), so the panel shows live and reopened
conversations the same way. Known fields get a dedicated view; fields this
module does not know (a newer pipeline's) are still shown, never dropped:

    decoder*   (any field named "decoder" or starting with it, when not None) -> a "Decoder" section:
               the guard's verdict and reasons, the decoder's text (also when rejected), its score
    anything else unknown                                      -> an "Other" section, key: value

Styles name theme variables ($text-muted, $text-success, ...), never fixed colours,
and words are never written in the theme's weak hues (the light theme's
$text-success/$text-warning fall under 4.5:1 contrast): colour marks bars and
icons (in their $text-* hues), words stay in $text, $text-primary, $text-muted or $text-error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from textual.content import Content

from agent.types import Trace

# The fields with a view of their own: every field of the one Trace model, and a reply's own two.
KNOWN = frozenset(Trace.model_fields) | frozenset(Trace.model_computed_fields) | {"session_id", "text"}
SOURCE_LABELS = {
    "decoder": "written by the decoder, checked by its guard",
    "faq": "FAQ answer",
    "template": "template with graph facts",
    "ask": "question for a missing detail",
    "fallback": "fallback",
    "handoff": "handoff to a person",
    "smalltalk": "small talk",
}
BAR_WIDTH = 16
TIMING_BAR_WIDTH = 8
MAX_VALUE_CHARS = 300


@dataclass(frozen=True)
class Thresholds:
    """The bot's decision thresholds, used to colour bars (from bot.yaml)."""

    confident: float = 0.5
    out_of_scope: float = 0.3
    faq_answer: float = 0.8


@dataclass(frozen=True)
class TraceSection:
    key: str  # stable id: answer, intent, faq, graph, decoder, timings, other
    title: str
    body: Content


def bar(value: float, width: int = BAR_WIDTH, style: str = "$text-primary") -> Content:
    """A fixed-width bar: `value` (0-1) of it filled, the rest shaded."""
    filled = round(max(0.0, min(1.0, value)) * width)
    return Content.assemble(("█" * filled, style), ("░" * (width - filled), "$text-muted"))


def trace_sections(trace: Trace, thresholds: Thresholds | None = None, width: int | None = None) -> list[TraceSection]:
    """The sections to show for one reply's trace, in reading order (empty sections left out).

    With `width` (the panel's text width), list items are cut to one line and
    long ones wrap with an indent, so a narrow panel (80x24) stays readable.
    """
    limits = thresholds or Thresholds()
    fields = trace.model_dump(mode="json")  # extras of a newer version included
    sections = [
        TraceSection("answer", "Answer", _answer(fields)),
        TraceSection("intent", "Intent", _intent(fields, limits, width)),
        TraceSection("context", "Conversation", _context(fields, width)),
        TraceSection("faq", "FAQ hits", _faq(fields, limits, width)),
        TraceSection("graph", "Knowledge graph", _graph(fields, width)),
    ]
    # A decoder field that is None means no decoder ran for this turn: nothing to show.
    decoder = {key: value for key, value in fields.items() if key.startswith("decoder") and value is not None}
    if decoder:
        sections.append(TraceSection("decoder", "Decoder", _decoder(decoder)))
    sections.append(TraceSection("timings", "Timings", _timings(fields, width)))
    other = {k: v for k, v in fields.items() if k not in KNOWN and not k.startswith("decoder")}
    if other:
        sections.append(TraceSection("other", "Other", _key_values(other)))
    return [section for section in sections if section.body.plain.strip()]


def _answer(trace: Mapping[str, Any]) -> Content:
    source = str(trace.get("source", "?"))
    parts: list[str | tuple[str, str]] = [
        (source, "bold $text-primary"),
        (f" · {SOURCE_LABELS.get(source, '')}\n", "$text-muted"),
        (f"{trace.get('reason', '')}", ""),
    ]
    if trace.get("handoff"):
        parts.append(("\n⚑ handed over to a person", "bold"))
    sentiment = trace.get("sentiment")
    if isinstance(sentiment, int | float):
        mood = "negative" if sentiment <= -0.05 else "positive" if sentiment >= 0.05 else "neutral"
        parts.append((f"\nsentiment {sentiment:+.2f} ({mood})", "$text-muted"))
    return Content.assemble(*parts)


def _one_line(content: Content, width: int | None) -> Content:
    if width is None or content.cell_length <= width:
        return content
    return content.truncate(width, ellipsis=True)


def _hanging(content: Content, width: int | None, indent: int = 4) -> Content:
    """`content` wrapped to `width`, every line after the first indented."""
    if width is None or content.cell_length <= width or width <= indent + 8:
        return content
    first, *rest = content.wrap(width)
    if not rest:
        return first
    tail = Content(" ").join(rest).wrap(width - indent)
    return Content("\n").join([first, *(line.pad_left(indent) for line in tail)])


def _indented(content: Content, width: int | None, indent: int) -> Content:
    """`content` wrapped to `width` with every line indented (under the item it belongs to)."""
    if width is None or width <= indent + 8:
        return content.pad_left(indent)
    return Content("\n").join(line.pad_left(indent) for line in content.wrap(width - indent))


def _intent(trace: Mapping[str, Any], limits: Thresholds, width: int | None) -> Content:
    name = trace.get("intent")
    confidence = trace.get("confidence")
    if name is None and confidence is None:
        return Content("")
    value = float(confidence or 0.0)
    if value >= limits.confident:
        style, verdict = "$text-success", "confident"
    elif value >= limits.out_of_scope:
        style, verdict = "$text-warning", "unsure"
    else:
        style, verdict = "$text-error", "out of scope"
    # " 0.93 unsure" needs 16 cells beside the bar; a narrow panel gets a shorter bar, not a wrapped line.
    bar_width = BAR_WIDTH if width is None else max(6, min(BAR_WIDTH, width - 19))
    lines = [
        Content.assemble((str(name), "bold")),
        Content.assemble(bar(value, bar_width, style), (f" {value:.2f} ", "bold"), verdict),
    ]
    for alt in trace.get("intents") or []:
        if isinstance(alt, Mapping) and alt.get("name") != name:
            alt_line = Content.styled(f"  {float(alt.get('confidence', 0)):.2f} {alt.get('name')}", "$text-muted")
            lines.append(_one_line(alt_line, width))
    return Content("\n").join(lines)


def _faq(trace: Mapping[str, Any], limits: Thresholds, width: int | None) -> Content:
    hits = [hit for hit in trace.get("faq_hits") or [] if isinstance(hit, Mapping)]
    lines: list[Content] = []
    for rank, hit in enumerate(hits):
        score = float(hit.get("score", 0.0))
        answered = rank == 0 and trace.get("source") == "faq"
        style = "bold" if score >= limits.faq_answer else "$text-muted"
        head = Content.assemble(
            ("✓ " if answered else "  ", "bold $text-success"),
            (f"{score:.2f} ", style),
            (str(hit.get("id", "?")), "bold" if answered else ""),
        )
        lines.append(_one_line(head, width))
        if hit.get("question"):
            question = Content.styled(str(hit["question"]), "$text-muted")
            lines.append(_indented(question, width, 7))
    return Content("\n").join(lines)


def _graph(trace: Mapping[str, Any], width: int | None) -> Content:
    lines: list[Content] = []
    for mention in trace.get("entities") or []:
        if isinstance(mention, Mapping):
            named = Content.assemble(
                ("named ", "$text-muted"),
                (str(mention.get("name", mention.get("id"))), "bold"),
                (f' ← "{mention.get("surface", "")}"', "$text-muted"),
            )
            lines.append(_one_line(named, width))
    for slot, entity in (trace.get("slots") or {}).items():
        lines.append(_one_line(Content.assemble(("slot ", "$text-muted"), (f"{slot}", "bold"), f" = {entity}"), width))
    facts = [fact for fact in trace.get("facts") or [] if isinstance(fact, Mapping)]
    for fact in facts:
        line = Content.assemble(
            ("fact ", "$text-muted"),
            (f"{fact.get('subject')}.{fact.get('attribute')}", "$text-primary"),
            f" = {fact.get('value')}",
        )
        lines.append(_hanging(line, width))
    if lines and not facts:
        lines.append(Content.styled("no facts used", "$text-muted"))
    return Content("\n").join(lines)


def _decoder(fields: Mapping[str, Any]) -> Content:
    lines: list[Content] = []
    for key, value in fields.items():
        if isinstance(value, Mapping):
            lines.append(_decoder_trace(value))
        else:
            lines.append(_key_values({key: value}))
    return Content("\n").join(lines)


def _decoder_trace(trace: Mapping[str, Any]) -> Content:
    """The decoder's own trace: verdict, its text (shown in full when the guard rejected it), then the rest."""
    accepted = bool(trace.get("accepted"))
    reasons = [str(reason) for reason in trace.get("rejected") or []]
    lines = [
        Content.styled("✓ accepted by the guard", "bold")
        if accepted
        else Content.styled("✗ rejected by the guard", "bold $text-error")
    ]
    lines.extend(Content.styled(f"  {reason}", "$text-error") for reason in reasons)
    text = trace.get("text")
    if text:
        label = "its text" if accepted else "its text (not sent)"
        lines.append(Content.assemble((f"{label}: ", "bold"), (str(text), "" if accepted else "italic")))
    details = []
    if isinstance(trace.get("mean_logprob"), int | float):
        details.append(f"mean logprob {trace['mean_logprob']:.2f}")
    if trace.get("backend"):
        details.append(f"backend {trace['backend']}")
    if isinstance(trace.get("latency_ms"), int | float):
        details.append(f"{trace['latency_ms']:.0f} ms")
    if details:
        lines.append(Content.styled(" · ".join(details), "$text-muted"))
    known = {"accepted", "rejected", "text", "mean_logprob", "backend", "latency_ms"}
    rest = {k: v for k, v in trace.items() if k not in known}
    if rest:
        lines.append(_key_values(rest))
    return Content("\n").join(lines)


def _key_values(fields: Mapping[str, Any]) -> Content:
    lines = []
    for key, value in fields.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if len(text) > MAX_VALUE_CHARS:
            text = text[: MAX_VALUE_CHARS - 1] + "…"
        lines.append(Content.assemble((f"{key}: ", "bold"), text))
    return Content("\n").join(lines)


def _context(trace: Mapping[str, Any], width: int | None) -> Content:
    """How the conversation so far changed the reading (only when it was weighed)."""
    context = trace.get("context")
    if not isinstance(context, Mapping):
        return Content("")
    lines = [Content.assemble((str(context.get("note", "")), "bold"))]
    if context.get("alone") != context.get("intent"):
        lines.append(Content.styled(f"alone it read as {context.get('alone')}", "$text-muted"))
    for reading, intent in (context.get("readings") or {}).items():
        lines.append(_one_line(Content.styled(f"  {reading}: {intent}", "$text-muted"), width))
    return Content("\n").join(_hanging(line, width) for line in lines)


def _timings(trace: Mapping[str, Any], width: int | None) -> Content:
    timings = {k: float(v) for k, v in (trace.get("timings_ms") or {}).items() if isinstance(v, int | float)}
    steps = {k: v for k, v in timings.items() if k != "total"}
    if not steps:
        return Content("")
    longest = max(steps.values()) or 1.0
    name_width = max(len(name) for name in [*steps, "total"])
    lines = [
        _one_line(
            Content.assemble(
                f"{name:<{name_width}} {ms:8.1f} ms ",
                bar(ms / longest, TIMING_BAR_WIDTH, "$text-secondary"),
            ),
            width,
        )
        for name, ms in steps.items()
    ]
    total = timings.get("total", sum(steps.values()))
    lines.append(Content.styled(f"{'total':<{name_width}} {total:8.1f} ms", "bold"))
    return Content("\n").join(lines)
