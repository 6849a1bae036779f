"""The replay log: conversations as logged, and the problems found while reading them.

A conversation is what a support team exported: customer turns (optionally with
a gold intent label) and the agent turns answered at the time. Readers
(`agent.replay.inputs`, `agent.replay.stored`) produce a `ReplayInput`: the valid
conversations in log order plus one `InputProblem` per skipped line, row or
conversation, so one bad line never stops a run or loses the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.exceptions import AgentError
from agent.messages import clean_message


class LogTurn(BaseModel):
    """One logged turn: what the customer wrote, or what the agent answered at the time."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # logs often carry extra keys (timestamps, channel)

    role: Literal["customer", "agent"]
    text: str = Field(min_length=1)
    intent: str | None = None  # gold label, on customer turns only


class LogConversation(BaseModel):
    """One logged conversation; `line` is where it starts in its source file (0 for a store)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    conversation_id: str = Field(min_length=1)
    started_at: datetime | None = None
    turns: list[LogTurn] = Field(min_length=1)
    line: int = 0

    @model_validator(mode="after")
    def _has_customer_turn(self) -> LogConversation:
        if not any(t.role == "customer" for t in self.turns):
            raise ValueError("has no customer turn, so there is nothing to replay")
        return self

    def customer_turns(self) -> list[CustomerTurn]:
        """The customer turns in order, each with the agent's logged answer (the agent turns that follow it)."""
        out: list[CustomerTurn] = []
        for index, turn in enumerate(self.turns):
            if turn.role == "customer":
                out.append(CustomerTurn(index=index, text=turn.text, gold_intent=turn.intent))
            elif out:
                previous = out[-1].logged_reply
                out[-1].logged_reply = turn.text if previous is None else f"{previous}\n{turn.text}"
        return out


@dataclass
class CustomerTurn:
    """A customer message to send to the bot, with what was logged around it."""

    index: int  # position in the conversation's turns (agent turns included)
    text: str
    gold_intent: str | None
    logged_reply: str | None = None


@dataclass(frozen=True)
class InputProblem:
    """A line, row or conversation that was skipped, and why."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source} line {self.line}" if self.line else self.source
        return f"{where}: {self.message}"


@dataclass
class ReplayInput:
    """The valid conversations of a log, in log order, and the problems found while reading it."""

    source: str
    conversations: list[LogConversation] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)

    def add(self, conversation: LogConversation, seen: dict[str, int]) -> None:
        first = seen.get(conversation.conversation_id)
        if first is not None:
            self.problems.append(
                InputProblem(
                    self.source,
                    conversation.line or None,
                    f"duplicate conversation_id '{conversation.conversation_id}' (first on line {first}); skipped",
                )
            )
            return
        seen[conversation.conversation_id] = conversation.line
        self.conversations.append(conversation)

    def drop_unreplayable(self, max_chars: int) -> None:
        """Skip conversations with a customer message the bot would refuse (too long, empty after cleaning)."""
        kept: list[LogConversation] = []
        for conv in self.conversations:
            problem = None
            for turn in conv.customer_turns():
                try:
                    clean_message(turn.text, max_chars)
                except AgentError as exc:
                    problem = f"conversation '{conv.conversation_id}' turn {turn.index}: {exc} Skipped."
                    break
            if problem is None:
                kept.append(conv)
            else:
                self.problems.append(InputProblem(self.source, conv.line or None, problem))
        self.conversations = kept

    def customer_turn_count(self) -> int:
        return sum(sum(t.role == "customer" for t in c.turns) for c in self.conversations)


def describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    if error["type"] == "json_invalid":
        return f"not valid JSON ({error['msg'].removeprefix('Invalid JSON: ')})"
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message
