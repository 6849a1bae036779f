"""Streamed replies: time to the first Server-Sent Event and to the final one, beside the plain JSON reply.

Starts `python -m agent serve` (one worker, a fresh SQLite store) on a trained
copy of the bot with its decoder on (the demo's default), then plays
`--messages` Banking77 test texts as conversations of 5 turns, one message at a
time. Each message is sent twice, interleaved so both see the same machine: with
`Accept: text/event-stream` to one conversation (times: first event of any kind,
first `delta`, the final `reply`) and as plain JSON to a twin conversation (time
to the whole reply). Only replies the decoder rewrites have deltas (FAQ,
template and page answers); the others are the `reply` event alone. Prints JSON.

    python -m bench.stream_latency [--bot .] [--messages 200]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import httpx

from agent.exceptions import ServeError
from agent.http.launch import ServedProcess
from agent.pipeline.assemble import load_bot
from agent.training.build import build
from bench.common import machine, percentile, read_rows

TURNS = 5  # messages per conversation


def _streamed(client: httpx.Client, conversation: str, text: str) -> dict[str, float | bool | str]:
    """Send one message as SSE; milliseconds to the first event, the first delta and the reply event."""
    started = time.perf_counter()
    first = first_delta = final = None
    deltas, replace, source, event = 0, False, "", ""
    with client.stream(
        "POST",
        f"/v1/conversations/{conversation}/messages",
        json={"text": text},
        headers={"Accept": "text/event-stream"},
    ) as response:
        if response.status_code != 200:
            raise SystemExit(f"HTTP {response.status_code}: {response.read()[:200]!r}")
        for line in response.iter_lines():
            now = (time.perf_counter() - started) * 1000
            if line.startswith("event: "):
                event = line[len("event: ") :]
                first = now if first is None else first
            elif line.startswith("data: ") and event == "delta":
                deltas += 1
                first_delta = now if first_delta is None else first_delta
            elif line.startswith("data: ") and event == "reply":
                final = now
                data = json.loads(line[len("data: ") :])
                replace, source = data["replace"], data["source"]
    assert first is not None and final is not None, "a stream ends with its reply event"
    return {
        "first": first,
        "first_delta": first_delta or 0.0,
        "final": final,
        "deltas": deltas,
        "replace": replace,
        "source": source,
    }


def _stats(values: list[float]) -> dict[str, float | int]:
    return {"n": len(values), "p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    texts = [r["text"] for r in read_rows("banking77/test.csv")][: args.messages]
    source = load_bot(Path(args.bot).resolve())
    if not source.config.decoder.enabled:
        raise SystemExit(f"{source.path}/bot.yaml has decoder.enabled false: nothing would stream")
    build(source, progress=False)  # incremental: seconds when the build is current
    key = secrets.token_urlsafe(24)
    run = secrets.token_hex(4)
    with tempfile.TemporaryDirectory(prefix="stream-latency-") as tmp:
        bot = Path(tmp) / "bot"
        bot.mkdir()
        for name in ("bot.yaml", "knowledge", "dialogs", "build"):
            src = source.path / name
            (shutil.copytree if src.is_dir() else shutil.copy)(src, bot / name)
        try:
            served = ServedProcess.start(bot, f"sqlite:///{Path(tmp) / 's.db'}", 1, f"{key}:chat", Path(tmp) / "log")
        except ServeError as exc:
            raise SystemExit(f"server did not start: {exc}") from None
        streamed, plain = [], []
        started = time.perf_counter()
        try:
            with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
                for text in texts[:5]:  # warm-up: the first turns pay for lazy initialisation
                    _streamed(client, f"warm-{run}", text)
                for i, text in enumerate(texts):
                    conversation = f"{run}-{i // TURNS:03d}"
                    streamed.append(_streamed(client, f"sse-{conversation}", text))
                    sent = time.perf_counter()
                    response = client.post(f"/v1/conversations/json-{conversation}/messages", json={"text": text})
                    if response.status_code != 200:
                        raise SystemExit(f"HTTP {response.status_code}: {response.text[:200]}")
                    plain.append((time.perf_counter() - sent) * 1000)
        finally:
            served.stop()
        wall = time.perf_counter() - started
    rewritten = [s for s in streamed if s["deltas"]]
    sources: dict[str, int] = {}
    for s in streamed:
        sources[str(s["source"])] = sources.get(str(s["source"]), 0) + 1
    print(
        json.dumps(
            {
                "benchmark": "stream_latency",
                "messages": len(texts),
                "decoder": f"{source.config.decoder.backend} {source.config.decoder.base}",
                "streams_with_deltas": len(rewritten),
                "replaced_after_streaming": sum(1 for s in streamed if s["replace"]),
                "first_event_ms": _stats([float(s["first"]) for s in streamed]),
                "final_event_ms": _stats([float(s["final"]) for s in streamed]),
                "with_deltas_first_delta_ms": _stats([float(s["first_delta"]) for s in rewritten]),
                "with_deltas_final_event_ms": _stats([float(s["final"]) for s in rewritten]),
                "with_deltas_mean_deltas": round(sum(float(s["deltas"]) for s in rewritten) / len(rewritten), 1)
                if rewritten
                else 0,
                "json_reply_ms": _stats(plain),
                "with_deltas_json_reply_ms": _stats([plain[i] for i, s in enumerate(streamed) if s["deltas"]]),
                "sources": sources,
                "workers": 1,
                "store": "sqlite (WAL)",
                "wall_s": round(wall, 1),
                **machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
