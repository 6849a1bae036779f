"""`python -m agent replay`: read a log, replay it through a bot, write results and the report.

    python -m agent replay INPUT --out DIR [--bot DIR] [--limit N] [--resume] [--compare PREVIOUS_DIR]
                           [--engine local|ray] [--workers N] [--batch-size N]

INPUT is a .jsonl or .csv log, `store` (the bot's own store; with --ids or
--since/--until) or a database URL. The bot answers from a replay store in
DIR (`replay.db`), never from its production store. Ctrl-C or a kill keeps
every finished conversation in DIR/results.jsonl; `--resume` continues.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from agent.bot.schemas import LoggedConversation
from agent.exceptions import DatasetError, ReplayError
from agent.pipeline.assemble import load_bot
from agent.pipeline.privacy import Masker
from agent.replay.html import write_html
from agent.replay.inputs import drop_unreplayable, load_input
from agent.replay.manifest import Manifest, Segment, now
from agent.replay.report import build_report, write_report
from agent.replay.results import RESULTS_FILE, ResultsFile
from agent.replay.runner import DEFAULT_BATCH_SIZE, LocalEngine, ReplayProgress, RunStats, drive, session_id_for
from agent.storage.conversation_log import ConversationLog

REPLAY_STORE = "replay.db"
SHOWN_PROBLEMS = 20


@dataclass
class ReplayOptions:
    """Everything the command needs, typed (the CLI fills it from its arguments)."""

    input: str
    out: Path
    bot: str = "."
    limit: int | None = None
    resume: bool = False
    compare: Path | None = None
    engine: Literal["local", "ray"] = "local"
    workers: int = 2
    batch_size: int = DEFAULT_BATCH_SIZE
    ray_address: str | None = None
    ids: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None
    progress: bool = True


@dataclass
class ReplayOutcome:
    stats: RunStats
    skipped_already_done: int
    problems: list[str] = field(default_factory=list)
    report: dict[str, Any] | None = None
    report_paths: list[Path] = field(default_factory=list)


def _normalise_input(spec: str) -> str:
    # Files are recorded by absolute path so a resume from another working folder still matches.
    return spec if spec == "store" or "://" in spec else str(Path(spec).expanduser().resolve())


def _select(log: ConversationLog, limit: int | None, done: set[str]) -> list[LoggedConversation]:
    chosen = log.conversations if limit is None else log.conversations[:limit]
    return [conv for conv in chosen if conv.conversation_id not in done]


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill` stops the run like Ctrl-C: results written so far stay, the manifest says interrupted."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_replay(options: ReplayOptions, warn: Callable[[str], None] | None = None) -> ReplayOutcome:
    """Replay `options.input` into `options.out`; returns what was done (the report unless interrupted)."""
    warn = warn or (lambda line: print(line, file=sys.stderr))
    if options.limit is not None and options.limit < 1:
        raise ReplayError(f"--limit must be at least 1 (got {options.limit}).")
    if options.batch_size < 1:
        raise ReplayError(f"--batch-size must be at least 1 (got {options.batch_size}).")
    if options.compare is not None and not (options.compare / RESULTS_FILE).is_file():
        raise ReplayError(
            f"--compare {options.compare} holds no {RESULTS_FILE}; give the --out folder of an earlier replay."
        )
    bot = load_bot(options.bot)
    bot_path = str(bot.path.resolve())
    input_spec = _normalise_input(options.input)
    out = options.out
    manifest = Manifest.load(out)
    if manifest is not None and options.resume:
        manifest.check_resumable(input_spec, bot_path)

    log = load_input(options.input, store_url=bot.store_url, ids=options.ids, since=options.since, until=options.until)
    drop_unreplayable(log, bot.config.limits.max_message_chars)
    problems = [str(p) for p in log.problems]
    for line in problems[:SHOWN_PROBLEMS]:
        warn(f"warning: {line}")
    if len(problems) > SHOWN_PROBLEMS:
        warn(f"warning: ... and {len(problems) - SHOWN_PROBLEMS} more skipped (listed in {out / 'report.json'})")
    if not log.conversations:
        raise DatasetError(f"{log.source} holds no conversation that can be replayed ({len(problems)} skipped).")

    results = ResultsFile(out)
    done = results.open(options.resume)
    if results.dropped_lines:
        warn(f"resume: dropped {results.dropped_lines} line(s) of conversations that were not finished")
    todo = _select(log, options.limit, done)
    engine, closer = _engine(options, bot_path, out, done)
    if manifest is None or not options.resume:
        manifest = Manifest(input=input_spec, bot=bot_path, bot_name=bot.config.name)
    segment = Segment(
        started_at=now(), engine=options.engine, batch_size=options.batch_size, skipped_input=len(problems)
    )
    manifest.segments.append(segment)
    manifest.save(out)  # before replaying, so even a killed run leaves a folder --resume can check
    turns = sum(sum(t.role == "customer" for t in conv.turns) for conv in todo)
    try:
        with _sigterm_as_interrupt():
            stats = drive(engine.steps(todo), results, ReplayProgress(len(todo), turns, options.progress))
    finally:
        results.close()
        closer()
    segment.conversations, segment.turns = stats.conversations, stats.turns
    segment.seconds, segment.interrupted = round(stats.seconds, 3), stats.interrupted
    manifest.save(out)
    outcome = ReplayOutcome(stats=stats, skipped_already_done=len(done), problems=problems)
    if stats.interrupted:
        return outcome
    masker = Masker.for_bot(bot.config)  # the report's texts, like results.jsonl, as the replay store keeps them
    outcome.report = build_report(out, previous=options.compare, problems=problems, manifest=manifest, masker=masker)
    outcome.report_paths = [write_report(out, outcome.report), write_html(out, outcome.report)]
    return outcome


def _engine(options: ReplayOptions, bot_path: str, out: Path, done: set[str]) -> tuple[Any, Callable[[], None]]:
    """The engine for this run and how to release it."""
    store_url = f"sqlite:///{(out / REPLAY_STORE).resolve()}"
    if options.engine == "ray":
        from agent.pipeline.artifacts import stale_artifacts
        from agent.replay.ray_engine import RayEngine
        from agent.storage.store import Store
        from agent.training.build import build

        bot = load_bot(bot_path)
        if stale_artifacts(bot):  # train once here, not once per worker
            store = Store(store_url)
            try:
                build(bot, store=store, progress=options.progress)
            finally:
                store.close()
        engine = RayEngine(
            bot_path, workers=options.workers, batch_size=options.batch_size, address=options.ray_address
        )
        return engine, lambda: None
    from agent.training import load_trained

    agent = load_trained(bot_path, store_url=store_url, progress=options.progress)
    # Conversations cut short by an interruption are in the replay store but not in the results:
    # forget them, so their replay starts from a fresh session like the first time.
    stale = _stored_ids(agent.store) - {session_id_for(cid) for cid in done}
    agent.store.delete_conversations(stale)
    return LocalEngine(agent, options.batch_size), agent.close


def _stored_ids(store: Any) -> set[str]:
    ids: set[str] = set()
    page = 1000
    while True:
        chunk = store.list_conversations(limit=page, offset=len(ids))
        ids.update(record.id for record in chunk)
        if len(chunk) < page:
            return ids
