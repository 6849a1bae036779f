"""Per-turn latency of `Agent.respond` (no decoder) over 500 turns, beside encoder-only time.

Messages are the first 500 texts of Banking77's test set (read by path), played
as 100 conversations of 5 turns against a fresh SQLite store (WAL), one turn at a time.

    python -m bench.latency [--bot .] [--turns 500]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from agent import load_trained
from bench.common import machine, percentile, read_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--turns", type=int, default=500)
    args = parser.parse_args()
    texts = [r["text"] for r in read_rows("banking77/test.csv")][: args.turns]
    with tempfile.TemporaryDirectory() as tmp:
        agent = load_trained(args.bot, decoder=False, store_url=f"sqlite:///{Path(tmp) / 'bench.db'}")
        for text in texts[:20]:  # warm-up: first calls pay for lazy initialisation
            agent.encoder.encode([text])
            agent.respond("warmup", text)
        encoder_ms, respond_ms, sources = [], [], {}
        for text in texts:
            started = time.perf_counter()
            agent.encoder.encode([text])
            encoder_ms.append((time.perf_counter() - started) * 1000)
        for i, text in enumerate(texts):
            started = time.perf_counter()
            reply = agent.respond(f"bench-{i // 5}", text)
            respond_ms.append((time.perf_counter() - started) * 1000)
            sources[reply.source] = sources.get(reply.source, 0) + 1
        agent.close()
    print(
        json.dumps(
            {
                "benchmark": "respond_latency_no_decoder",
                "turns": len(texts),
                "respond_ms_p50": round(percentile(respond_ms, 50), 2),
                "respond_ms_p95": round(percentile(respond_ms, 95), 2),
                "respond_ms_max": round(max(respond_ms), 2),
                "encoder_only_ms_p50": round(percentile(encoder_ms, 50), 2),
                "encoder_only_ms_p95": round(percentile(encoder_ms, 95), 2),
                "sources": sources,
                "store": "sqlite (WAL)",
                **machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
