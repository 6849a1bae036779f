"""A small log whose replies through the demo bot are known (they match tests/pipeline/test_dialog.py)."""

from __future__ import annotations

from pathlib import Path

from agent.bot.schemas import LoggedConversation, LoggedTurn
from agent.storage.conversation_log import write_jsonl


def customer(text: str, intent: str | None = None) -> LoggedTurn:
    return LoggedTurn(role="customer", text=text, intent=intent)


def agent(text: str) -> LoggedTurn:
    return LoggedTurn(role="agent", text=text)


KNOWN_LOG = [
    LoggedConversation(
        conversation_id="fee",
        turns=[
            customer("how much does it cost to withdraw cash abroad?", "cash_withdrawal_charge"),
            agent("It is free up to your allowance, then 2%."),
        ],
    ),
    LoggedConversation(
        conversation_id="slots",
        turns=[
            customer("how long does delivery take?", "card_delivery_estimate"),
            agent("Which card?"),
            customer("the premium one", "card_delivery_estimate"),
        ],
    ),
    LoggedConversation(
        conversation_id="fb",
        turns=[
            customer("can you book me a flight to Paris?", "oos"),
            customer("what's the weather tomorrow in Rome?", "oos"),
            customer("tell me a joke about cats", "oos"),
        ],
    ),
    LoggedConversation(conversation_id="person", turns=[customer("I want to talk to a real person", "human_handoff")]),
]
# (conversation, customer turn) -> the source the demo bot answers with
KNOWN_SOURCES = {
    ("slots", 0): "ask",
    ("slots", 1): "template",
    ("fb", 0): "fallback",
    ("fb", 1): "fallback",
    ("fb", 2): "handoff",
    ("person", 0): "handoff",
}
KNOWN_TURNS = 7


def write_known_log(path: Path, copies: int = 1, malformed: bool = False) -> Path:
    """The known log (each conversation `copies` times, ids suffixed), optionally with one malformed line."""
    log = [
        conv.model_copy(update={"conversation_id": conv.conversation_id + (f"-{k}" if copies > 1 else "")})
        for k in range(copies)
        for conv in KNOWN_LOG
    ]
    write_jsonl(log, path)
    if malformed:
        with path.open("a", encoding="utf-8") as handle:
            handle.write('{"conversation_id": "broken", "turns": [}\n')
    return path
