"""The local engine on the demo bot: continuous batching, state per conversation, interruption."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from known_log import KNOWN_LOG, KNOWN_SOURCES, KNOWN_TURNS

from agent import Agent
from agent.replay.results import ResultsFile, TurnResult, read_results
from agent.replay.runner import LocalEngine, ReplayProgress, ReplayStep, drive, session_id_for


def replay(agent: Agent, batch_size: int) -> tuple[list[ReplayStep], dict[tuple[str, int], TurnResult]]:
    steps = list(LocalEngine(agent, batch_size).steps(KNOWN_LOG))
    rows = {(r.conversation_id, r.customer_turn): r for step in steps for rows in step.finished for r in rows}
    return steps, rows


def test_continuous_batching_replays_every_turn_once_with_its_state(demo_agent: Agent) -> None:
    steps, rows = replay(demo_agent, batch_size=2)
    # Two conversations in flight; a finished one is replaced at once: fee+slots, slots+fb, fb+person, fb.
    assert [step.turns for step in steps] == [2, 2, 2, 1]
    assert [[rows[0].conversation_id for rows in step.finished] for step in steps] == [
        ["fee"],
        ["slots"],
        ["person"],
        ["fb"],
    ]
    assert len(rows) == KNOWN_TURNS
    for key, source in KNOWN_SOURCES.items():
        assert rows[key].source == source, key
    fee = rows[("fee", 0)]
    assert fee.intent == fee.gold_intent == "cash_withdrawal_charge" and fee.source in {"faq", "template"}
    assert fee.logged_reply == "It is free up to your allowance, then 2%."
    assert rows[("slots", 1)].turn == 2 and rows[("slots", 1)].intent == "card_delivery_estimate"
    assert rows[("fb", 2)].handoff and rows[("person", 0)].handoff
    assert all(r.batch_size <= 2 and r.latency_ms > 0 and "encoder" in r.timings_ms for r in rows.values())
    stored = demo_agent.conversation(session_id_for("slots"))
    assert stored is not None and len(stored.turns) == 4


def test_batched_replay_answers_like_one_message_at_a_time(demo_agent: Agent) -> None:
    _, batched = replay(demo_agent, batch_size=8)
    for conv in KNOWN_LOG:
        for ordinal, turn in enumerate(conv.customer_turns()):
            alone = demo_agent.respond(f"alone:{conv.conversation_id}", turn.text)
            row = batched[(conv.conversation_id, ordinal)]
            assert (row.intent, row.source, row.reply) == (alone.intent, alone.source, alone.text)


def test_session_ids_are_stable_and_valid() -> None:
    assert session_id_for("c-42") == "replay:c-42"
    long_a, long_b = "a" * 300, "a" * 299 + "b"
    assert session_id_for(long_a) == session_id_for(long_a)
    assert session_id_for(long_a) != session_id_for(long_b)
    assert session_id_for(long_a).startswith("replay:#") and len(session_id_for(long_a)) <= 128
    assert session_id_for("tab\there").startswith("replay:#")


def test_ctrl_c_keeps_every_finished_conversation(demo_agent: Agent, tmp_path: Path) -> None:
    def interrupted_after_two(steps: Iterator[ReplayStep]) -> Iterator[ReplayStep]:
        for number, step in enumerate(steps, start=1):
            yield step
            if number == 2:
                raise KeyboardInterrupt

    results = ResultsFile(tmp_path)
    results.open(resume=False)
    engine = LocalEngine(demo_agent, batch_size=2)
    stats = drive(interrupted_after_two(engine.steps(KNOWN_LOG)), results, ReplayProgress(4, 7, enabled=False))
    results.close()
    assert stats.interrupted and (stats.conversations, stats.turns) == (2, 3)
    assert [(r.conversation_id, r.customer_turn) for r in read_results(tmp_path)] == [
        ("fee", 0),
        ("slots", 0),
        ("slots", 1),
    ]
