"""HTTP load: 50 concurrent conversations x 20 messages on one chat key against `python -m agent serve`.

Starts the server itself (2 workers, a fresh PostgreSQL schema, a trained copy
of the bot), then each conversation sends its 20 messages one after another
(each waits for its reply, as a customer does) while all 50 run at once.
Messages are Banking77 test texts, read by path. Afterwards every
conversation's stored history must hold its 20 customer turns in order, each
followed by the bot's reply.

The rate limits are the bot's own (`--limits bot`, the default) counted in
Redis (`--rate-storage`), so the figure says whether one help-desk key meets
them; `--limits off` turns them off (the issue 7 measurement). Then a flood
phase (`--flood-seconds`, 0 skips it): one conversation sends `--flood-rate`
messages per second without waiting for replies while `--flood-others`
conversations talk as customers do; the flood must get 429 with Retry-After
and the others nothing but answers. `--no-decoder` trains a copy of the bot
with its decoder off. Prints JSON.

    python -m bench.http_load [--bot .] [--workers 2] [--store postgres|sqlite|URL] [--no-decoder]
                              [--conversations 50] [--messages 20] [--limits bot|off]
                              [--rate-storage redis://127.0.0.1:6379] [--flood-seconds 6] [--flood-rate 10]
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
from agent.pipeline.messages import clean_message
from agent.pipeline.privacy import Masker
from agent.training.build import build
from bench.common import bench_store, copy_bot, decoder_off, machine, percentile, read_rows, start_server


def _prepare_bot(source: Path, dest: Path, limits: str, rate_storage: str, decoder: bool) -> Path:
    """A trained copy of the bot: its own limits counted in `rate_storage`, or none (`limits` "off")."""
    if decoder:
        build(load_bot(source), progress=False)

    def edit(config: dict[str, Any]) -> None:
        rate_limit = config.setdefault("http", {}).setdefault("rate_limit", {})
        if limits == "off":
            rate_limit.update(per_conversation=None, per_address=None, per_key=None)
        else:
            rate_limit["storage"] = rate_storage
        if not decoder:
            decoder_off(config)

    copy_bot(source, dest, edit, with_build=decoder)
    if not decoder:
        build(load_bot(dest), progress=False)
    return dest


async def _load(
    url: str, key: str, scripts: dict[str, list[str]], statuses: dict[int, int] | None = None
) -> tuple[list[float], list[str], dict, float]:
    latencies: list[float] = []
    errors: list[str] = []
    sources: dict[str, int] = {}
    statuses = {} if statuses is None else statuses
    limits = httpx.Limits(max_connections=len(scripts) + 10, max_keepalive_connections=len(scripts) + 10)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as client:

        async def converse(conversation: str, texts: list[str]) -> None:
            for text in texts:
                started = time.perf_counter()
                try:
                    response = await client.post(f"/v1/conversations/{conversation}/messages", json={"text": text})
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}")
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code != 200:
                    errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
                else:
                    source = response.json()["source"]
                    sources[source] = sources.get(source, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(converse(cid, texts) for cid, texts in scripts.items()))
        wall = time.perf_counter() - started
    return latencies, errors, sources, wall


def _check_histories(url: str, key: str, expected: dict[str, list[str]]) -> dict[str, int]:
    """How many conversations are complete and in order; turns lost or out of order."""
    complete = lost = reordered = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        for conversation, want in expected.items():
            turns = client.get(f"/v1/conversations/{conversation}").json().get("turns", [])
            customer = [t["text"] for t in turns if t["role"] == "customer"]
            alternating = [t["role"] for t in turns] == ["customer", "bot"] * (len(turns) // 2)
            lost += max(0, len(want) - len(customer))
            in_order = customer == want and alternating
            reordered += 0 if in_order or len(customer) < len(want) else 1
            complete += in_order
    return {"conversations_complete_in_order": complete, "lost_turns": lost, "reordered_conversations": reordered}


def _server_metrics(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/v1/metrics", timeout=30).text
    values = {}
    for line in text.splitlines():
        if line.startswith(("agent_batch_size_sum", "agent_batch_size_count")):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    count = values.get("agent_batch_size_count", 0.0)
    return {"mean_batch_size": round(values.get("agent_batch_size_sum", 0.0) / count, 2) if count else 0.0}


async def _flood(url: str, key: str, conversation: str, rate: float, seconds: float) -> dict[str, object]:
    """`rate` messages a second to one conversation, each sent on schedule without waiting for the last."""
    headers = {"Authorization": f"Bearer {key}"}
    statuses: dict[int, int] = {}
    retry_after: list[int] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:

        async def one(i: int) -> None:
            await asyncio.sleep(i / rate)
            response = await client.post(f"/v1/conversations/{conversation}/messages", json={"text": f"#{i} hello"})
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 429 and "Retry-After" in response.headers:
                retry_after.append(int(response.headers["Retry-After"]))

        await asyncio.gather(*(one(i) for i in range(round(rate * seconds))))
    refused = statuses.get(429, 0)
    return {
        "flood_sent": round(rate * seconds),
        "flood_answered": statuses.get(200, 0),
        "flood_429": refused,
        "flood_429_with_retry_after": len(retry_after),
        "flood_retry_after_s_range": [min(retry_after), max(retry_after)] if retry_after else None,
        "flood_other_statuses": {str(k): v for k, v in statuses.items() if k not in (200, 429)},
    }


def _flood_phase(url: str, key: str, args: argparse.Namespace, texts: list[str], run: str) -> dict[str, object]:
    """The flood beside `--flood-others` conversations talking normally; what each side got."""
    others = {f"calm-{run}-{c:03d}": texts[c * 10 : (c + 1) * 10] for c in range(args.flood_others)}
    statuses: dict[int, int] = {}

    async def both() -> tuple[dict[str, object], tuple[list[float], list[str], dict, float]]:
        flood = _flood(url, key, f"flood-{run}", args.flood_rate, args.flood_seconds)
        return await asyncio.gather(flood, _load(url, key, others, statuses))  # type: ignore[return-value]

    flood, (latencies, errors, _, _) = asyncio.run(both())
    return {
        **flood,
        "others_conversations": len(others),
        "others_requests": sum(statuses.values()),
        "others_429": statuses.get(429, 0),
        "others_errors": len(errors),
        "others_latency_ms_p50": round(percentile(latencies, 50), 1),
        "others_latency_ms_p95": round(percentile(latencies, 95), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default="postgres", help="postgres (a fresh schema), sqlite, or a store URL")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--limits", choices=["bot", "off"], default="bot", help="the bot's own rate limits, or none")
    parser.add_argument("--rate-storage", default="redis://127.0.0.1:6379", help="where the limits count")
    parser.add_argument("--no-decoder", action="store_true", help="train a copy with the decoder off")
    parser.add_argument("--flood-seconds", type=float, default=6.0)
    parser.add_argument("--flood-rate", type=float, default=10.0, help="flood messages per second")
    parser.add_argument("--flood-others", type=int, default=20, help="conversations talking during the flood")
    args = parser.parse_args()

    texts = [r["text"] for r in read_rows("banking77/test.csv")]
    need = args.conversations * args.messages
    texts = (texts * (need // len(texts) + 1))[:need]
    run = uuid.uuid4().hex[:8]
    scripts = {
        f"load-{run}-{c:03d}": texts[c * args.messages : (c + 1) * args.messages] for c in range(args.conversations)
    }
    key = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="http-load-") as tmp:
        bot = _prepare_bot(Path(args.bot).resolve(), Path(tmp), args.limits, args.rate_storage, not args.no_decoder)
        config = load_bot(bot).config
        rate_limit, decoder_on = config.http.rate_limit, config.decoder.enabled
        masker = Masker.for_bot(config)
        limit = config.limits.max_message_chars
        expected = {cid: [masker.mask(clean_message(t, limit)) for t in msgs] for cid, msgs in scripts.items()}
        with bench_store(args.store, Path(tmp), f"load_{run}") as store:
            served = start_server(bot, store, args.workers, f"{key}:chat", Path(tmp) / "serve.log")
            url = served.url
            try:
                asyncio.run(_load(url, key, {f"warmup-{run}-{i}": texts[:3] for i in range(4)}))
                statuses: dict[int, int] = {}
                latencies, errors, sources, wall = asyncio.run(_load(url, key, scripts, statuses))
                histories = _check_histories(url, key, expected)
                flood = _flood_phase(url, key, args, texts, run) if args.flood_seconds > 0 else {}
                server = _server_metrics(url)
            finally:
                served.stop(60)
    store_name = "postgresql" if args.store == "postgres" else args.store
    print(
        json.dumps(
            {
                "benchmark": "http_load",
                "conversations": args.conversations,
                "messages_per_conversation": args.messages,
                "requests": sum(len(msgs) for msgs in scripts.values()),
                "workers": args.workers,
                "store": store_name,
                "decoder": decoder_on,
                "rate_limit": rate_limit.model_dump() if args.limits == "bot" else "off",
                "http_429": statuses.get(429, 0),
                "latency_ms_p50": round(percentile(latencies, 50), 1),
                "latency_ms_p95": round(percentile(latencies, 95), 1),
                "latency_ms_p99": round(percentile(latencies, 99), 1),
                "latency_ms_max": round(max(latencies), 1) if latencies else None,
                "requests_per_second": round(len(latencies) / wall, 1),
                "wall_s": round(wall, 2),
                "errors": len(errors),
                "error_samples": errors[:5],
                **histories,
                **flood,
                **server,
                "sources": sources,
                **machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
