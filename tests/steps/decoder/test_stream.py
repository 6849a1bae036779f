"""Streaming the decoder's text: markers held back until complete, deltas that always add up to the reply."""

from __future__ import annotations

from agent.steps.decoder.prompt import Grounding
from agent.steps.decoder.stream import ExpandingSink
from agent.types import Fact

GROUNDING = Grounding(
    message="how much is the plus card and what do I do if I lose it?",
    intent="card_fee",
    facts=[Fact(subject="Plus card", attribute="monthly fee", value="EUR 4.99")],
    steps="\n1. Freeze the card in the app.\n2. Order a new one.",
)


def stream(grounding: Grounding, raw_final: str, step: int = 1) -> tuple[list[str], ExpandingSink]:
    """Feed the raw text `step` characters at a time, as a tokenizer's decode would grow it; then finish."""
    deltas: list[str] = []
    sink = ExpandingSink(grounding, deltas.append)
    for end in range(1, len(raw_final) + 1, step):
        sink.update(raw_final[:end])
    sink.finish(grounding.expand(raw_final.strip()))
    return deltas, sink


def test_markers_and_steps_are_expanded_and_never_shown_half_written() -> None:
    raw = " The Plus card costs [f1] a month. If you lose it: [steps]"
    deltas, sink = stream(GROUNDING, raw)
    assert "".join(deltas) == GROUNDING.expand(raw.strip())
    assert "EUR 4.99" in "".join(deltas) and "1. Freeze the card" in "".join(deltas)
    assert not any("[" in delta for delta in deltas)  # no "[f", "[st" ... ever reached the customer
    assert not sink.broken and len(deltas) > 5


def test_a_space_before_steps_is_not_sent_early() -> None:
    deltas, _ = stream(GROUNDING, "Sorry to hear that. [steps]")
    assert "".join(deltas) == "Sorry to hear that.\n1. Freeze the card in the app.\n2. Order a new one."


def test_an_unknown_fact_marker_stays_and_the_text_still_adds_up() -> None:
    deltas, _ = stream(GROUNDING, "It costs [f7].", step=3)
    assert "".join(deltas) == "It costs [f7]."  # the step refuses it; the stream shows what was written


def test_when_the_text_stops_extending_what_was_sent_nothing_more_is_sent() -> None:
    deltas: list[str] = []
    sink = ExpandingSink(GROUNDING, deltas.append)
    sink.update("Hello there")
    sink.update("Hallo there, friend")  # a decoder whose text changed behind us
    sink.finish("Hallo there, friend")
    assert deltas == ["Hello there"] and sink.broken  # the final event's `replace` corrects the client
