"""A framework for customer-service chatbots.

from agent import Agent
agent = Agent.load("path/to/bot", train=True)
reply = agent.respond("session-1", "my card hasn't arrived")
"""

from agent.dialog import Agent
from agent.exceptions import (
    AgentError,
    BuildError,
    ConfigError,
    DatasetError,
    FaqError,
    MessageError,
    StoreError,
)
from agent.schemas import FaqEntry
from agent.types import Reply, Step, Turn

__all__ = [
    "Agent",
    "AgentError",
    "BuildError",
    "ConfigError",
    "DatasetError",
    "FaqEntry",
    "FaqError",
    "MessageError",
    "Reply",
    "Step",
    "StoreError",
    "Turn",
]
