"""HTTP load: 50 concurrent conversations x 20 messages against `python -m agent serve` on loopback.

Starts the server itself (2 workers, a fresh PostgreSQL schema, a trained copy
of the bot with the rate limit off), then each conversation sends its 20
messages one after another (each waits for its reply, as a customer does)
while all 50 run at once. Messages are Banking77 test texts, read by path.
Afterwards every conversation's stored history must hold its 20 customer turns
in order, each followed by the bot's reply. Prints JSON.

    python -m bench.http_load [--bot .] [--workers 2] [--store postgres|sqlite|URL]
                              [--conversations 50] [--messages 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import yaml

from agent.exceptions import ServeError
from agent.http.launch import ServedProcess
from agent.pipeline.assemble import load_bot
from agent.pipeline.messages import clean_message
from agent.pipeline.privacy import Masker
from agent.training.build import build
from bench.common import machine, percentile, read_rows

PG_ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _prepare_bot(source: Path, dest: Path) -> Path:
    """A trained copy of the bot with the rate limit off (one key sends every request here)."""
    build(load_bot(source), progress=False)
    for name in ("bot.yaml", "knowledge", "dialogs", "build"):
        src = source / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    config = yaml.safe_load((dest / "bot.yaml").read_text())
    config.setdefault("http", {})["rate_limit"] = {"requests_per_minute": 0, "burst": 1}
    (dest / "bot.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


async def _load(url: str, key: str, scripts: dict[str, list[str]]) -> tuple[list[float], list[str], dict, float]:
    latencies: list[float] = []
    errors: list[str] = []
    sources: dict[str, int] = {}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default="postgres", help="postgres (a fresh schema), sqlite, or a store URL")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=20)
    args = parser.parse_args()

    texts = [r["text"] for r in read_rows("banking77/test.csv")]
    need = args.conversations * args.messages
    texts = (texts * (need // len(texts) + 1))[:need]
    run = uuid.uuid4().hex[:8]
    scripts = {
        f"load-{run}-{c:03d}": texts[c * args.messages : (c + 1) * args.messages] for c in range(args.conversations)
    }
    key = secrets.token_urlsafe(24)
    schema = None
    with tempfile.TemporaryDirectory(prefix="http-load-") as tmp:
        bot = _prepare_bot(Path(args.bot).resolve(), Path(tmp))
        config = load_bot(bot).config
        masker = Masker(config.privacy)
        limit = config.limits.max_message_chars
        expected = {cid: [masker.mask(clean_message(t, limit)) for t in msgs] for cid, msgs in scripts.items()}
        if args.store == "postgres":
            import psycopg

            schema = f"load_{run}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            store = f"{PG_URL}?options=-csearch_path%3D{schema}"
        elif args.store == "sqlite":
            store = f"sqlite:///{Path(tmp) / 'load.db'}"
        else:
            store = args.store
        try:
            served = ServedProcess.start(bot, store, args.workers, f"{key}:chat", Path(tmp) / "serve.log", 300)
        except ServeError as exc:
            raise SystemExit(f"server did not start: {exc}") from None
        url = served.url
        try:
            asyncio.run(_load(url, key, {f"warmup-{run}-{i}": texts[:3] for i in range(4)}))
            latencies, errors, sources, wall = asyncio.run(_load(url, key, scripts))
            histories = _check_histories(url, key, expected)
            server = _server_metrics(url)
        finally:
            served.stop(60)
            if schema:
                import psycopg

                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")
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
                "latency_ms_p50": round(percentile(latencies, 50), 1),
                "latency_ms_p95": round(percentile(latencies, 95), 1),
                "latency_ms_p99": round(percentile(latencies, 99), 1),
                "latency_ms_max": round(max(latencies), 1) if latencies else None,
                "requests_per_second": round(len(latencies) / wall, 1),
                "wall_s": round(wall, 2),
                "errors": len(errors),
                "error_samples": errors[:5],
                **histories,
                **server,
                "sources": sources,
                **machine(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
