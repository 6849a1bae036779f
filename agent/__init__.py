"""A framework for customer-service chatbots.

from agent import load_trained
agent = load_trained("path/to/bot")      # builds what is stale, then Agent.load("path/to/bot")
reply = agent.respond("session-1", "my card hasn't arrived")

The layers, each a sub-package, importing only those below it (checked by
import-linter, contracts in pyproject.toml):

    cli, http, tui, replay, eval     interfaces
    training                         building the bot's artifacts
    pipeline                         the dialog manager (Agent)
    steps                            encoder, intents, faq, graph, sentiment, policy, decoder
    storage, bot                     the store; the bot folder and its data files
    types, config, exceptions        shared shapes, settings, errors (and progress bars)
"""

from agent.bot.schemas import FaqEntry
from agent.exceptions import (
    AgentError,
    BuildError,
    ConfigError,
    DatasetError,
    FaqError,
    MessageError,
    StoreError,
)
from agent.pipeline.dialog import Agent
from agent.training.build import load_trained
from agent.types import Reply, Step, Trace, Turn

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
    "Trace",
    "Turn",
    "load_trained",
]
