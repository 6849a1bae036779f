"""Arrival order across workers: conversations of messages posted a few ms apart, against `serve` with 2 workers.

Starts the server itself (a fresh PostgreSQL schema by default, a trained copy of
the bot with the rate limit off). Each conversation's messages are started
`--gap-ms` apart and are all in flight together, each on a connection of its
own, opened before the first send, so that they spread over the workers and a
send is one write; `--connect per-message` opens each connection as its
message is sent instead, so the client's own handshakes race. Conversations run
one after another (`--parallel` runs several at once). Afterwards every stored
transcript is read back through the API: a conversation is reordered when its
customer turns are not in the order the messages were sent, and a message is
lost when it is missing. `--sequence` also sends each message's number (`seq`), so the server
orders by the client's numbers rather than by arrival. Prints JSON.

    python -m bench.arrival_order [--bot .] [--workers 2] [--store postgres|sqlite|URL]
                                  [--conversations 20] [--messages 10] [--gap-ms 20]
                                  [--parallel 1] [--sequence] [--connect ahead|per-message]
                                  [--no-decoder]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from agent.pipeline.assemble import load_bot
from agent.training.build import build
from bench.common import bench_store, copy_bot, decoder_off, machine, percentile, start_server

QUESTIONS = [
    "how much does the card cost",
    "I lost my card",
    "when is support open",
    "is the plus card free",
    "hello",
]


def _prepare_bot(source: Path, dest: Path, decoder: bool) -> Path:
    """A trained copy of the bot with the rate limit off (one key sends every request here)."""

    def edit(config: dict[str, Any]) -> None:
        config.setdefault("http", {})["rate_limit"] = {"per_conversation": None, "per_address": None, "per_key": None}
        if not decoder:
            decoder_off(config)

    copy_bot(source, dest, edit, with_build=True)  # with its build, an incremental build has little to do
    build(load_bot(dest), progress=False)
    return dest


def _text(conversation: int, i: int) -> str:
    return f"#{i:02d} {QUESTIONS[(conversation + i) % len(QUESTIONS)]}"


async def _conversation(
    url: str, key: str, cid: str, n: int, count: int, gap_s: float, seq: bool, connect: str
) -> dict:
    """Post `count` messages `gap_s` apart, all in flight together; read the transcript back.

    Each message goes over a connection of its own. With `connect="ahead"` the connections are opened
    (and answered once by /v1/health) before the first message is sent: a send is then one write, so
    the client's own connection set-up cannot reorder what it sends. With "per-message" each message
    opens its connection when it is sent, as a browser or a naive client does; the handshakes then race.
    """
    headers = {"Authorization": f"Bearer {key}"}
    clients = [
        httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=httpx.Limits(max_connections=1))
        for _ in range(count)
    ]
    try:
        workers = (
            [(await client.get("/v1/health")).json()["worker"] for client in clients] if connect == "ahead" else []
        )

        async def one(i: int) -> tuple[httpx.Response | None, float, str]:
            await asyncio.sleep(i * gap_s)
            body: dict[str, object] = {"text": _text(n, i)}
            if seq:
                body["seq"] = i + 1
            started = time.perf_counter()
            try:
                response = await clients[i].post(f"/v1/conversations/{cid}/messages", json=body)
            except httpx.HTTPError as exc:
                return None, 0.0, type(exc).__name__
            return response, (time.perf_counter() - started) * 1000, ""

        results = await asyncio.gather(*(one(i) for i in range(count)))
        workers += [r.headers.get("X-Agent-Worker") for r, _, _ in results if r is not None and connect != "ahead"]
        turns = (await clients[0].get(f"/v1/conversations/{cid}")).json().get("turns", [])
    finally:
        for client in clients:
            await client.aclose()
    errors = [
        err or f"HTTP {r.status_code}: {r.text[:160]}" for r, _, err in results if r is None or r.status_code != 200
    ]
    customer = [t["text"] for t in turns if t["role"] == "customer"]
    sent = [_text(n, i) for i in range(count)]
    return {
        "latencies": [ms for r, ms, _ in results if r is not None and r.status_code == 200],
        "errors": errors,
        "workers": set(workers),
        "lost": len(set(sent) - set(customer)),
        "reordered": sorted(customer, key=sent.index) != customer if set(customer) <= set(sent) else True,
        "alternating": [t["role"] for t in turns] == ["customer", "bot"] * (len(turns) // 2),
    }


async def _run(url: str, key: str, args: argparse.Namespace, run: str) -> list[dict]:
    gap = args.gap_ms / 1000
    done: list[dict] = []
    for start in range(0, args.conversations, args.parallel):
        batch = range(start, min(args.conversations, start + args.parallel))
        done += await asyncio.gather(
            *(
                _conversation(url, key, f"order-{run}-{c:03d}", c, args.messages, gap, args.sequence, args.connect)
                for c in batch
            )
        )
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default="postgres", help="postgres (a fresh schema), sqlite, or a store URL")
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    parser.add_argument("--parallel", type=int, default=1, help="conversations in flight at once")
    parser.add_argument("--sequence", action="store_true", help="send each message's number as `seq`")
    parser.add_argument(
        "--connect",
        choices=["ahead", "per-message"],
        default="ahead",
        help="open each message's connection before the first send (default), or as it is sent",
    )
    parser.add_argument("--no-decoder", action="store_true", help="turn the bot's decoder off in the copy")
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="arrival-order-") as tmp:
        bot = _prepare_bot(Path(args.bot).resolve(), Path(tmp), decoder=not args.no_decoder)
        decoder = load_bot(bot).config.decoder.enabled
        with bench_store(args.store, Path(tmp), f"arrival_{run}") as store:
            served = start_server(bot, store, args.workers, f"{key}:chat", Path(tmp) / "serve.log")
            try:
                warm = argparse.Namespace(**{**vars(args), "conversations": 2, "parallel": 2})
                asyncio.run(_run(served.url, key, warm, f"warmup-{run}"))
                started = time.perf_counter()
                results = asyncio.run(_run(served.url, key, args, run))
                wall = time.perf_counter() - started
            finally:
                served.stop(60)
    latencies = [ms for r in results for ms in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    print(
        json.dumps(
            {
                "benchmark": "arrival_order",
                "conversations": args.conversations,
                "messages_per_conversation": args.messages,
                "gap_ms": args.gap_ms,
                "parallel": args.parallel,
                "client_sequence": args.sequence,
                "connect": args.connect,
                "workers": args.workers,
                "store": "postgresql" if args.store == "postgres" else args.store,
                "decoder": decoder,
                "reordered_conversations": sum(r["reordered"] for r in results),
                "lost_messages": sum(r["lost"] for r in results),
                "transcripts_not_alternating": sum(not r["alternating"] for r in results),
                "conversations_answered_by_several_workers": sum(len(r["workers"]) > 1 for r in results),
                "errors": len(errors),
                "error_samples": errors[:5],
                "latency_ms_p50": round(percentile(latencies, 50), 1),
                "latency_ms_p95": round(percentile(latencies, 95), 1),
                "latency_ms_max": round(max(latencies), 1) if latencies else None,
                "wall_s": round(wall, 2),
                **machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
