"""The Ray engine on a local Ray instance: the same answers as the local engine.

Ray comes with the dev extra; a checkout without it skips this file, except under
AGENT_REQUIRE_SERVICES=1 (set by .ci/run), where a missing Ray is a failure.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from known_log import KNOWN_LOG, KNOWN_TURNS, write_known_log

from agent import Agent
from agent.replay.command import ReplayOptions, run_replay
from agent.replay.results import read_results
from agent.replay.runner import LocalEngine

if importlib.util.find_spec("ray") is None:
    if os.environ.get("AGENT_REQUIRE_SERVICES") == "1":
        raise RuntimeError("Ray is required (AGENT_REQUIRE_SERVICES=1) but not installed: pip install -e '.[dev]'")
    pytest.skip("Ray is an optional extra: pip install 'support-agent[ray]'", allow_module_level=True)

pytestmark = pytest.mark.ray


def test_ray_engine_replays_like_the_local_engine(demo_bot_dir: Path, demo_agent: Agent, tmp_path: Path) -> None:
    log = write_known_log(tmp_path / "log.jsonl")
    out = tmp_path / "ray-run"
    outcome = run_replay(
        ReplayOptions(
            input=str(log), out=out, bot=str(demo_bot_dir), engine="ray", workers=1, batch_size=2, progress=False
        )
    )
    assert not outcome.stats.interrupted and outcome.stats.turns == KNOWN_TURNS
    on_ray = {(r.conversation_id, r.customer_turn): (r.intent, r.source, r.reply) for r in read_results(out)}
    local = {
        (r.conversation_id, r.customer_turn): (r.intent, r.source, r.reply)
        for step in LocalEngine(demo_agent, 2).steps(KNOWN_LOG)
        for rows in step.finished
        for r in rows
    }
    assert on_ray == local
    assert outcome.report is not None and outcome.report["run"]["engine"] == "ray"
