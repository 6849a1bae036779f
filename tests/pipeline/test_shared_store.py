"""Two `Agent`s sharing one store, as two worker processes do: FAQ edits travel, turns never interleave."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import Agent, FaqEntry
from agent.steps.encoder import Encoder


@pytest.fixture()
def pair(demo_bot_dir: Path, tmp_path: Path, store_url: str, encoder: Encoder) -> Iterator[tuple[Agent, Agent]]:
    folder = tmp_path / "bot"
    shutil.copytree(demo_bot_dir, folder)  # FAQ edits re-save the index: keep them off the shared build
    first = Agent.load(folder, store_url=store_url, encoder=encoder)
    second = Agent.load(folder, store_url=store_url, encoder=encoder)
    yield first, second
    first.close()
    second.close()


def test_faq_added_by_one_agent_reaches_the_other(pair: tuple[Agent, Agent]) -> None:
    first, second = pair
    second.refresh_faq()
    assert second.refresh_faq() is False  # nothing changed: one cheap read, no sync
    entry = FaqEntry(id="lounge-access", question="Do you offer airport lounge access?", answer="Not at the moment.")
    first.add_faq(entry)
    assert second.respond("before", "do you offer airport lounge access?").text != entry.answer
    assert second.refresh_faq() is True
    assert second.respond("after", "do you offer airport lounge access?").text == entry.answer
    first.delete_faq("lounge-access")
    assert second.refresh_faq() is True
    assert second.respond("gone", "do you offer airport lounge access?").text != entry.answer


def test_turns_of_one_conversation_never_interleave(pair: tuple[Agent, Agent]) -> None:
    first, second = pair
    errors: list[Exception] = []

    def talk(agent: Agent, tag: str) -> None:
        try:
            for i in range(6):
                agent.respond("shared", f"{tag}{i} how do I top up by card?")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=talk, args=(agent, tag)) for agent, tag in ((first, "a"), (second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    record = first.conversation("shared")
    assert record is not None
    turns = record.turns
    assert [t.role for t in turns] == ["customer", "bot"] * 12 and [t.seq for t in turns] == list(range(24))
    for tag in "ab":  # each agent's own messages keep their order
        mine = [t.text for t in turns if t.role == "customer" and t.text.startswith(tag)]
        assert mine == [f"{tag}{i} how do I top up by card?" for i in range(6)]
