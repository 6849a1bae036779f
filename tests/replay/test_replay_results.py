"""results.jsonl: whole conversations per write, and recovery of an interrupted file for --resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.exceptions import ReplayError
from agent.replay.results import ResultsFile, TurnResult, read_results


def row(conv: str, ordinal: int, total: int, **fields: object) -> TurnResult:
    base: dict[str, object] = {
        "conversation_id": conv,
        "turn": ordinal * 2,
        "customer_turn": ordinal,
        "customer_turns": total,
        "text": f"{conv} message {ordinal}",
        "source": "faq",
        "reply": "an answer",
    }
    base.update(fields)
    return TurnResult.model_validate(base)


def conversation(conv: str, total: int) -> list[TurnResult]:
    return [row(conv, i, total) for i in range(total)]


def test_written_conversations_read_back(tmp_path: Path) -> None:
    results = ResultsFile(tmp_path)
    assert results.open(resume=False) == set()
    results.write([conversation("a", 2), conversation("b", 1)])
    results.write([])
    results.close()
    assert [(r.conversation_id, r.customer_turn) for r in read_results(tmp_path)] == [("a", 0), ("a", 1), ("b", 0)]


def test_an_existing_run_needs_resume(tmp_path: Path) -> None:
    results = ResultsFile(tmp_path)
    results.open(resume=False)
    results.write([conversation("a", 1)])
    results.close()
    with pytest.raises(ReplayError, match="already holds a replay; add --resume"):
        ResultsFile(tmp_path).open(resume=False)


def test_resume_keeps_whole_conversations_and_drops_a_torn_tail(tmp_path: Path) -> None:
    results = ResultsFile(tmp_path)
    results.open(resume=False)
    results.write([conversation("a", 2), conversation("b", 3)])
    results.close()
    path = tmp_path / "results.jsonl"
    whole = path.read_bytes()
    partial = row("c", 0, 2).model_dump_json() + "\n"  # c has 2 turns; only the first made it
    torn = row("d", 0, 1).model_dump_json()[:40]  # killed inside a write
    path.write_bytes(whole + b"garbage that is not json\n" + partial.encode() + torn.encode())

    again = ResultsFile(tmp_path)
    assert again.open(resume=True) == {"a", "b"}
    assert again.dropped_lines == 3
    assert path.read_bytes() == whole  # only whole conversations remain, byte for byte
    again.write([conversation("c", 2), conversation("d", 1)])
    again.close()
    keys = [(r.conversation_id, r.customer_turn) for r in read_results(tmp_path)]
    assert len(keys) == len(set(keys)) == 2 + 3 + 2 + 1


def test_resume_of_a_clean_file_rewrites_nothing(tmp_path: Path) -> None:
    results = ResultsFile(tmp_path)
    results.open(resume=False)
    results.write([conversation("a", 2)])
    results.close()
    before = (tmp_path / "results.jsonl").stat().st_mtime_ns
    again = ResultsFile(tmp_path)
    assert again.open(resume=True) == {"a"}
    again.close()
    assert again.dropped_lines == 0
    assert (tmp_path / "results.jsonl").stat().st_mtime_ns == before


def test_reading_a_folder_without_results_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match=r"holds no results\.jsonl"):
        list(read_results(tmp_path))
