"""The decoder step: rewrite a FAQ or template answer with the language model, when it is safe.

It runs after the policy. For every turn answered from a FAQ or a template it
builds the prompt from that turn's grounding, generates for the whole batch in
one call, and keeps the generated text only if its mean token log-probability
reaches `decoder.min_logprob` and the grounding guard finds nothing to object
to. Otherwise the policy's answer stands, and the trace says why. A turn with a
`stream` gets the generated text as it is written (agent/steps/decoder/stream.py).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from agent.bot.folder import BotFolder
from agent.config import DecoderConfig
from agent.steps.decoder.backends import DecoderBackend, LocalDecoder, RemoteDecoder
from agent.steps.decoder.guard import GroundingGuard
from agent.steps.decoder.prompt import grounding_for, render_prompt
from agent.steps.decoder.stream import ExpandingSink
from agent.steps.graph import KnowledgeGraph
from agent.types import DecoderTrace, Turn


class Decoder:
    """Pipeline step wrapping a decoder backend with its confidence and grounding checks."""

    name = "decoder"

    def __init__(self, backend: DecoderBackend, graph: KnowledgeGraph, config: DecoderConfig) -> None:
        self.backend = backend
        self.graph = graph
        self.config = config
        self.guard = GroundingGuard(graph, config.min_draft_overlap)

    def __call__(self, turns: Sequence[Turn]) -> None:
        work = []
        for turn in turns:
            grounding = grounding_for(turn, self.graph, self.config.max_facts)
            if grounding is not None:
                work.append((turn, grounding))
        if not work:
            return
        # A streamed turn's text goes to its listener as it is written, before the guard below judges it.
        sinks = [ExpandingSink(g, turn.stream) if turn.stream is not None else None for turn, g in work]
        started = time.perf_counter()
        generations = self.backend.generate(
            [render_prompt(g, self.config.prompt_draft) for _, g in work],
            [sink.update if sink is not None else None for sink in sinks] if any(sinks) else None,
        )
        latency = round((time.perf_counter() - started) * 1000 / len(work), 3)
        for (turn, grounding), generation, sink in zip(work, generations, sinks, strict=True):
            problems: list[str] = []
            text = grounding.expand(generation.text)
            if sink is not None and not generation.error:
                sink.finish(text)
            if generation.error:
                problems.append(generation.error)
            else:
                score = generation.mean_logprob
                if score is None or score < self.config.min_logprob:
                    shown = "none" if score is None else f"{score:.2f}"
                    problems.append(f"low confidence (mean log-prob {shown} < {self.config.min_logprob})")
                problems += [f"refers to a fact it was not given ({mark})" for mark in grounding.unresolved(text)]
                problems += self.guard.check(text, grounding).problems
            turn.decoder = DecoderTrace(
                text=text,
                mean_logprob=generation.mean_logprob,
                accepted=not problems,
                rejected=problems,
                backend=self.backend.name,
                latency_ms=latency,
            )
            if not problems and turn.decision is not None:
                before = turn.decision
                turn.decision = replace(
                    before,
                    text=text,
                    source="decoder",
                    reason=f"decoder rewrote the {before.source} answer (mean log-prob "
                    f"{generation.mean_logprob:.2f}, grounded); {before.reason}",
                )


def load_decoder(bot: BotFolder, graph: KnowledgeGraph) -> Decoder:
    """The decoder step bot.yaml asks for: the fine-tuned local model, or a remote endpoint."""
    cfg = bot.config.decoder
    backend: DecoderBackend
    if cfg.backend == "remote":
        backend = RemoteDecoder(cfg.remote, cfg.decoding)
    else:
        backend = LocalDecoder(bot.build_path / "decoder", cfg.decoding, cfg.device, cfg.max_prompt_tokens)
    return Decoder(backend, graph, cfg)
