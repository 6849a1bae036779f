"""What each step costs on adversarial messages, beside the encoder's time for the same message.

Every message of the fixed-seed corpus (bench/adversarial_corpus.py: emoji with ZWJ
sequences and skin tones, combining marks, RTL, CJK, repeated characters, long tokens,
mixed; each at the bot's `limits.max_message_chars`) is answered `--repeat` times, each
time in a fresh conversation, and the fastest run of each figure is kept (the others
measure the machine's other load). Per message: the slowest step in the trace and its
time, the encoder step's time, the whole turn (wall time of `Agent.respond`: cleaning,
lock, state, every step, masking, the store write) and the turn / encoder ratio. The
decoder is off: this measures the steps whose cost the message decides.

    python -m bench.adversarial_cost --bot DIR [--repeat 3]

The privacy masker runs outside the steps (when the turn is stored); its own time is
reported as `mask_ms`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from agent import load_trained
from agent.pipeline.dialog import Agent
from bench.adversarial_corpus import Message, corpus
from bench.common import machine


def measure(agent: Agent, message: Message, repeat: int, run: int) -> dict[str, object]:
    """The fastest of `repeat` turns on `message`: every step's time, the turn's, the encoder's."""
    steps: dict[str, float] = {}
    turn_ms = encode_ms = mask_ms = float("inf")
    for attempt in range(repeat):
        started = time.perf_counter()
        reply = agent.respond(f"adv-{run}-{message.kind}-{attempt}", message.text)
        turn_ms = min(turn_ms, (time.perf_counter() - started) * 1000)
        for name, ms in reply.timings_ms.items():
            steps[name] = min(steps.get(name, float("inf")), ms)
        started = time.perf_counter()
        agent.encoder.encode([message.text])
        encode_ms = min(encode_ms, (time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        agent.masker.mask(message.text)
        mask_ms = min(mask_ms, (time.perf_counter() - started) * 1000)
    per_step = {k: v for k, v in steps.items() if k not in ("total", "store")}
    slowest = max(per_step, key=lambda k: per_step[k])
    encoder_step = per_step.get("encoder", encode_ms)
    return {
        "kind": message.kind,
        "chars": len(message.text),
        "slowest_step": slowest,
        "slowest_step_ms": round(per_step[slowest], 2),
        "encoder_step_ms": round(encoder_step, 2),
        "encode_alone_ms": round(encode_ms, 2),
        "turn_ms": round(turn_ms, 2),
        "turn_over_encoder": round(turn_ms / encoder_step, 2),
        "mask_ms": round(mask_ms, 3),
        "steps_ms": {k: round(v, 2) for k, v in sorted(per_step.items(), key=lambda kv: -kv[1])},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--repeat", type=int, default=3, help="turns per message; the fastest is kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        agent = load_trained(args.bot, decoder=False, store_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        limit = agent.config.limits.max_message_chars
        messages = corpus(limit)
        agent.warm_up()
        for message in messages[:3]:  # first calls pay for lazy initialisation
            agent.respond("warm-up", message.text)
        rows = [measure(agent, message, args.repeat, run) for run, message in enumerate(messages)]
        agent.close()
    worst = max(rows, key=lambda r: float(r["turn_over_encoder"]))  # type: ignore[arg-type]
    slowest = max(rows, key=lambda r: float(r["slowest_step_ms"]))  # type: ignore[arg-type]
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
                "rows": rows,
                "machine": machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
