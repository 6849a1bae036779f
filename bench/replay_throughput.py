"""Replay throughput (customer turns/s) beside the encoder's raw batched throughput on the same texts.

The log is synthetic, generated here from the bot's own intent examples (each
customer turn carries its intent as the gold label), so nothing is copied from
a dataset. Three measurements, printed as one JSON object:

1. throughput: `--throughput-conversations` conversations replayed in-process
   (LocalEngine, results written to disk as in a real run) versus
   `Encoder.encode` on exactly the same customer texts (globally length-sorted:
   the best this path can do). `--repeats` alternating pairs; `ratio` is
   best-of replay over best-of encoder, `ratio_paired_median` the median of
   each adjacent pair's ratio (load that drifts over minutes hits both halves
   of a pair alike), `ratio_cpu_time` the same from this process's CPU
   seconds. On a shared machine run it with `--threads 1` too: one torch
   thread never spins waiting for a descheduled sibling, so CPU time is the
   work done. The bar: replay / encoder >= 0.7.
2. end to end: `python -m agent replay` on a `--conversations` (10,000) log in
   a child process: wall time, turns/s, and the child's peak RSS.
3. with `--decoder`: the same replay through bench.decoder_quality's copy of the bot with the
   decoder enabled (batched generation; a decoder already trained there is reused).

    python -m bench.replay_throughput [--bot .] [--conversations 10000] [--decoder]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from agent import Agent, load_trained
from agent.bot.folder import BotFolder
from agent.bot.schemas import LoggedConversation, LoggedTurn
from agent.pipeline.assemble import load_bot
from agent.replay.results import ResultsFile, read_results
from agent.replay.runner import DEFAULT_BATCH_SIZE, LocalEngine, ReplayProgress, drive
from agent.storage.conversation_log import write_jsonl
from bench.common import ROOT, machine
from bench.decoder_quality import prepare


def synthetic_log(bot: BotFolder, conversations: int, seed: int = 5) -> list[LoggedConversation]:
    """Conversations of 1-4 customer turns drawn from the bot's intent examples, each with a logged answer."""
    rng = random.Random(seed)
    examples = [(intent.name, text) for intent in bot.intents.intents for text in intent.examples]
    answers = {entry.intent: entry.answer for entry in bot.faq_entries() if entry.intent}
    log = []
    for number in range(conversations):
        turns = []
        for _ in range(rng.randint(1, 4)):
            intent, text = rng.choice(examples)
            turns.append(LoggedTurn(role="customer", text=text, intent=intent))
            turns.append(LoggedTurn(role="agent", text=answers.get(intent, "Let me check that for you.")))
        log.append(LoggedConversation(conversation_id=f"syn-{number:06d}", turns=turns))
    return log


def with_prefix(log: list[LoggedConversation], prefix: str) -> list[LoggedConversation]:
    # A fresh id per repeat: each repeat replays from empty sessions, as a real run does.
    return [c.model_copy(update={"conversation_id": f"{prefix}{c.conversation_id}"}) for c in log]


def measure_throughput(agent: Agent, log: list[LoggedConversation], batch_size: int, repeats: int) -> dict[str, object]:
    texts = [turn.text for conv in log for turn in conv.customer_turns()]
    agent.encoder.encode(texts[:256])  # warm-up: the first calls pay for lazy initialisation
    list(LocalEngine(agent, batch_size).steps(with_prefix(log[:64], "warm-")))
    encoder_s, replay_s, encoder_cpu, replay_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(repeats):
            started, cpu = time.perf_counter(), time.process_time()
            agent.encoder.encode(texts)
            encoder_s.append(time.perf_counter() - started)
            encoder_cpu.append(time.process_time() - cpu)
            results = ResultsFile(Path(tmp) / f"run{repeat}")
            results.open(resume=False)
            engine = LocalEngine(agent, batch_size)
            cpu = time.process_time()
            stats = drive(engine.steps(with_prefix(log, f"r{repeat}-")), results, ReplayProgress(0, 0, enabled=False))
            replay_cpu.append(time.process_time() - cpu)
            results.close()
            assert stats.turns == len(texts)
            replay_s.append(stats.seconds)
    encoder_tps, replay_tps = len(texts) / min(encoder_s), len(texts) / min(replay_s)
    return {
        "conversations": len(log),
        "customer_turns": len(texts),
        "batch_size": batch_size,
        "repeats": repeats,
        "encoder_raw_turns_per_s": round(encoder_tps, 1),
        "replay_turns_per_s": round(replay_tps, 1),
        "ratio": round(replay_tps / encoder_tps, 3),
        "ratio_paired_median": round(statistics.median(e / r for e, r in zip(encoder_s, replay_s, strict=True)), 3),
        # CPU seconds of this process: much less sensitive to other processes on a shared machine.
        "ratio_cpu_time": round(statistics.median(e / r for e, r in zip(encoder_cpu, replay_cpu, strict=True)), 3),
        "torch_threads": torch.get_num_threads(),
        "encoder_raw_turns_per_s_each": [round(len(texts) / s, 1) for s in encoder_s],
        "replay_turns_per_s_each": [round(len(texts) / s, 1) for s in replay_s],
    }


def end_to_end(bot_dir: str, log: list[LoggedConversation], batch_size: int, tmp: Path) -> dict[str, object]:
    path = tmp / "synthetic.jsonl"
    write_jsonl(log, path)
    out = tmp / "e2e"
    command = [sys.executable, "-m", "agent", "replay", str(path), "--out", str(out), "--bot", bot_dir]
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--batch-size", str(batch_size), "--no-progress"], cwd=ROOT, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"replay failed: {done.stderr.strip().splitlines()[-1:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    report = json.loads((out / "report.json").read_text())
    return {
        "conversations": report["counts"]["conversations"],
        "customer_turns": report["counts"]["customer_turns"],
        "wall_s_including_start_and_report": round(wall, 1),
        "replay_s": report["run"]["seconds"],
        "replay_turns_per_s": report["run"]["turns_per_second"],
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "intent_accuracy": report["intents"]["accuracy"],
        "fallback_rate": report["rates"]["fallback"],
        "results_mb": round((out / "results.jsonl").stat().st_size / 2**20, 1),
        "replay_store_mb": round((out / "replay.db").stat().st_size / 2**20, 1),
    }


def with_decoder(log: list[LoggedConversation], batch_size: int, work: Path, tmp: Path) -> dict[str, object]:
    """The same replay through a copy of the demo bot with the decoder enabled.

    The copy lives in `work` and is the one `bench.decoder_quality` prepares, so a decoder that
    bench already fine-tuned there is reused (training is incremental) instead of trained again.
    """
    copy = prepare("scratch", work)
    started = time.perf_counter()
    agent = load_trained(copy, store_url=f"sqlite:///{tmp / 'decoder.db'}", progress=True)
    load_s = time.perf_counter() - started
    try:
        texts = [turn.text for conv in log for turn in conv.customer_turns()]
        list(LocalEngine(agent, batch_size).steps(with_prefix(log[:16], "warm-")))
        results = ResultsFile(tmp / "decoder-run")
        results.open(resume=False)
        stats = drive(LocalEngine(agent, batch_size).steps(log), results, ReplayProgress(0, 0, enabled=False))
        results.close()
        rows = list(read_results(tmp / "decoder-run"))
        ran = [r for r in rows if r.decoder is not None]
        return {
            "conversations": len(log),
            "customer_turns": len(texts),
            "replay_turns_per_s": round(stats.turns_per_second, 2),
            "decoder_ran_on": len(ran),
            "decoder_accepted": sum(bool(r.decoder and r.decoder.get("accepted")) for r in ran),
            "load_and_train_s": round(load_s, 1),
        }
    finally:
        agent.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot", default=".")
    parser.add_argument("--conversations", type=int, default=10_000, help="end-to-end run size (0 skips it)")
    parser.add_argument("--throughput-conversations", type=int, default=2000, help="0 skips the ratio")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--decoder", action="store_true", help="also replay with the decoder enabled")
    parser.add_argument("--decoder-conversations", type=int, default=200)
    parser.add_argument(
        "--decoder-work", default="/tmp/decoder-bench-scratch", help="decoder bot copy (bench.decoder_quality's)"
    )
    args = parser.parse_args()
    bot = load_bot(args.bot)
    if args.threads:
        torch.set_num_threads(args.threads)
    out: dict[str, object] = {"benchmark": "replay_throughput", "bot": bot.config.name}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.throughput_conversations:
            agent = load_trained(args.bot, decoder=False, store_url=f"sqlite:///{tmp / 'throughput.db'}")
            try:
                log = synthetic_log(bot, args.throughput_conversations, seed=1)
                out["throughput_no_decoder"] = measure_throughput(agent, log, args.batch_size, args.repeats)
            finally:
                agent.close()
        if args.conversations:
            big = synthetic_log(bot, args.conversations, seed=2)
            out["end_to_end"] = end_to_end(str(bot.path), big, args.batch_size, tmp)
        if args.decoder:
            small = synthetic_log(bot, args.decoder_conversations, seed=3)
            out["with_decoder"] = with_decoder(small, args.batch_size, Path(args.decoder_work), tmp)
    out.update(machine())
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
