"""Streaming the decoder's text: the local model's tokens as they come, turned into what a customer may see.

Two pieces, one per layer of the problem:

- `RowStreamer` takes the tokens `generate` produces, one per row and step, and
  hands each row's text so far to that row's callback. It implements the
  streamer interface of transformers (`put` / `end`, as `TextIteratorStreamer`
  does) for a whole batch: `TextIteratorStreamer` serves one prompt and a
  consumer thread, while a streamed turn here is generated in the same batch as
  the turns around it, on the agent's own thread.
- `ExpandingSink` turns a row's raw text into deltas of the reply as the
  customer would read it: the model writes fact markers (`[f1]`) and `[steps]`,
  which `Grounding.expand` replaces, so a marker is held back until it is
  complete, and so is trailing space (` [steps]` swallows the space before it).
  What it sends is always a prefix of the expanded text, so the deltas joined
  are the decoder's reply; if that ever fails to hold it stops sending and the
  final event's `replace` flag corrects the client.

The deltas are the decoder's text *before* the grounding guard has judged it:
a refused rewrite has been shown, and the final event replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from agent.steps.decoder.prompt import Grounding
from agent.types import TextSink

RawSink = Callable[[str], None]  # receives a row's whole raw text so far
# A marker cut off at the end of the text so far: "[", "[f", "[f1", "[st" ... (complete ones end with "]").
PARTIAL_MARK = re.compile(r"\[(?:f\d*|s(?:t(?:e(?:p(?:s)?)?)?)?)?$")


class RowStreamer:
    """The transformers streamer interface for a batch: each row's decoded text goes to its own sink.

    `generate` calls `put` once with the prompts, then once per step with one new
    token per row; a row is finished at its end-of-text token (or padding), as
    `LocalDecoder.generate` reads the result.
    """

    def __init__(self, tokenizer: Any, sinks: Sequence[RawSink | None]) -> None:
        self.tokenizer = tokenizer
        self.sinks = list(sinks)
        self.tokens: list[list[int]] = [[] for _ in self.sinks]
        self.done = [sink is None for sink in self.sinks]
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:  # the first call carries the prompts themselves
            self._prompt_seen = True
            return
        eos, pad = self.tokenizer.eos_token_id, self.tokenizer.pad_token_id
        for row, token in enumerate(value.reshape(-1).tolist()):
            if row >= len(self.sinks) or self.done[row]:
                continue
            if token == eos or (token == pad and pad != eos):
                self.done[row] = True
                continue
            self.tokens[row].append(token)
            sink = self.sinks[row]
            assert sink is not None
            sink(self.tokenizer.decode(self.tokens[row], skip_special_tokens=True))

    def end(self) -> None:
        self.done = [True] * len(self.sinks)


class ExpandingSink:
    """Turns one row's raw text so far into deltas of its expanded text, sent to `sink`."""

    def __init__(self, grounding: Grounding, sink: TextSink) -> None:
        self.grounding = grounding
        self.sink = sink
        self.sent = ""
        self.broken = False  # the expanded text stopped extending what was sent: send nothing more

    def update(self, raw: str) -> None:
        """The model's raw text so far (markers unexpanded); sends what is new and safe to show."""
        text = raw.lstrip().rstrip("\ufffd")  # the reply is stripped; a half-decoded character waits
        mark = PARTIAL_MARK.search(text)
        if mark is not None:
            text = text[: mark.start()]
        self._send(self.grounding.expand(text.rstrip()))

    def finish(self, text: str) -> None:
        """The whole expanded reply, once generation ended: sends the rest of it."""
        self._send(text)

    def _send(self, expanded: str) -> None:
        if self.broken or len(expanded) <= len(self.sent):
            return
        if not expanded.startswith(self.sent):
            self.broken = True
            return
        delta, self.sent = expanded[len(self.sent) :], expanded
        self.sink(delta)
