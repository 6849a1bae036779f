"""What each step costs on adversarial messages, beside the encoder's time for the same message.

Every message of the fixed-seed corpus (bench/adversarial_corpus.py: emoji with ZWJ
sequences and skin tones, combining marks, RTL, CJK, repeated characters, long tokens,
mixed; each at the bot's `limits.max_message_chars`) is answered `--repeat` times, in
rounds over the corpus, each time in a fresh conversation, and the fastest run of each
figure is kept (the others measure the machine's other load). Per message: the slowest step in the trace and its
time, the encoder step's time, the whole turn (wall time of `Agent.respond`: cleaning,
lock, state, every step, masking, the store write) and the turn / encoder ratio. The
decoder is off: this measures the steps whose cost the message decides.

    python -m bench.adversarial_cost --bot DIR [--repeat 3] [--scale 8]

The privacy masker runs outside the steps (when the turn is stored); its own time is
reported as `mask_ms`. `growth` checks that no step is super-linear: every step (and
the masker) runs on the corpus made `--scale` times as long (through `Agent.annotate`,
which neither cleans nor stores, so the message limit does not apply), and each step's
time there is divided by its time at the limit; linear is about `--scale`, quadratic its
square. The encoder is left out (it reads at most `encoder.max_length` tokens).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from agent import load_trained
from agent.pipeline.dialog import Agent
from bench.adversarial_corpus import Message, corpus
from bench.common import machine


@dataclass
class Fastest:
    """The fastest of the runs on one message: each step's time, the whole turn, encoding alone, masking."""

    steps: dict[str, float] = field(default_factory=dict)
    turn_ms: float = float("inf")
    encode_ms: float = float("inf")
    mask_ms: float = float("inf")

    def run(self, agent: Agent, session_id: str, text: str) -> None:
        started = time.perf_counter()
        reply = agent.respond(session_id, text)
        self.turn_ms = min(self.turn_ms, (time.perf_counter() - started) * 1000)
        for name, ms in reply.timings_ms.items():
            self.steps[name] = min(self.steps.get(name, float("inf")), ms)
        started = time.perf_counter()
        agent.encoder.encode([text])
        self.encode_ms = min(self.encode_ms, (time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        agent.masker.mask(text)
        self.mask_ms = min(self.mask_ms, (time.perf_counter() - started) * 1000)

    def row(self, message: Message) -> dict[str, object]:
        per_step = {k: v for k, v in self.steps.items() if k not in ("total", "store")}
        slowest = max(per_step, key=lambda k: per_step[k])
        encoder = per_step["encoder"]
        return {
            "kind": message.kind,
            "chars": len(message.text),
            "slowest_step": slowest,
            "slowest_step_ms": round(per_step[slowest], 2),
            "encoder_step_ms": round(encoder, 2),
            "encode_alone_ms": round(self.encode_ms, 2),
            "turn_ms": round(self.turn_ms, 2),
            "turn_over_encoder": round(self.turn_ms / encoder, 2),
            "store_ms": round(self.steps.get("store", 0.0), 2),
            "mask_ms": round(self.mask_ms, 3),
            "steps_ms": {k: round(v, 2) for k, v in sorted(per_step.items(), key=lambda kv: -kv[1])},
        }


def _fastest_steps(agent: Agent, text: str, repeat: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for attempt in range(repeat):
        (turn,) = agent.annotate([(f"growth-{attempt}", text)])
        started = time.perf_counter()
        agent.masker.mask(text)
        timings = {**turn.timings_ms, "mask": (time.perf_counter() - started) * 1000}
        for name, ms in timings.items():
            best[name] = min(best.get(name, float("inf")), ms)
    return best


def step_growth(agent: Agent, short: list[Message], long: list[Message], repeat: int) -> list[dict[str, object]]:
    """Per kind, the step whose time grew most from the corpus at the limit to the long corpus, and by how much."""
    out: list[dict[str, object]] = []
    for small, big in zip(short, long, strict=True):
        before, after = _fastest_steps(agent, small.text, repeat), _fastest_steps(agent, big.text, repeat)
        # A step under 0.2 ms at the limit is timer noise and Python overhead, not a cost that can grow.
        ratios = {k: after[k] / max(before[k], 0.2) for k in before if k != "encoder"}
        step = max(ratios, key=lambda k: ratios[k])
        out.append(
            {
                "kind": small.kind,
                "chars": [len(small.text), len(big.text)],
                "step": step,
                "growth": round(ratios[step], 2),
                "ms": [round(before[step], 3), round(after[step], 3)],
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--repeat", type=int, default=3, help="turns per message; the fastest is kept")
    parser.add_argument("--scale", type=int, default=8, help="how many times longer the growth check's corpus is")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        agent = load_trained(args.bot, decoder=False, store_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        limit = agent.config.limits.max_message_chars
        messages = corpus(limit)
        agent.warm_up()
        for message in messages[:3]:  # first calls pay for lazy initialisation
            agent.respond("warm-up", message.text)
        growth = step_growth(agent, messages, corpus(limit * args.scale), args.repeat)
        fastest = [Fastest() for _ in messages]
        # Rounds over the whole corpus, so a burst of the machine's other load hits every message alike.
        for attempt in range(args.repeat):
            for run, (message, best) in enumerate(zip(messages, fastest, strict=True)):
                best.run(agent, f"adv-{attempt}-{run}", message.text)
        agent.close()
    rows = [best.row(message) for message, best in zip(messages, fastest, strict=True)]
    worst = max(rows, key=lambda r: float(r["turn_over_encoder"]))  # type: ignore[arg-type]
    slowest = max(rows, key=lambda r: float(r["slowest_step_ms"]))  # type: ignore[arg-type]
    # The slowest step other than the encoder, over the corpus, beside the encoder's time for that message.
    others = [(ms, name, r) for r in rows for name, ms in r["steps_ms"].items() if name != "encoder"]  # type: ignore[union-attr]
    other_ms, other_name, other_row = max(others, key=lambda item: item[0])
    print(
        json.dumps(
            {
                "benchmark": "adversarial_step_cost",
                "messages": len(rows),
                "max_message_chars": limit,
                "repeat": args.repeat,
                "worst_turn_over_encoder": worst["turn_over_encoder"],
                "worst_turn_kind": worst["kind"],
                "slowest_step": {k: slowest[k] for k in ("kind", "slowest_step", "slowest_step_ms", "encoder_step_ms")},
                "slowest_step_but_encoder": {
                    "kind": other_row["kind"],
                    "step": other_name,
                    "ms": other_ms,
                    "encoder_step_ms": other_row["encoder_step_ms"],
                },
                "scale": args.scale,
                "worst_growth": max(growth, key=lambda g: g["growth"]),
                "rows": rows,
                "growth": growth,
                "machine": machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
