"""Every error the package raises on purpose, under one root.

A user mistake (a bad bot folder, an over-long message, a missing build) is
reported as one of these with a one-line message that says what happened, the
likely cause and the valid values. Anything else escaping the package is a bug.

    AgentError
    ├── ConfigError              a bot folder file is missing or invalid
    ├── BuildError               build artifacts are missing, stale or unreadable
    ├── MessageError             a customer message cannot be processed (empty, too long)
    ├── FaqError                 a FAQ add/update/delete was refused (unknown or duplicate id, bad field)
    ├── FeedbackError            a rating names a turn that is not one of the conversation's replies
    ├── StoreError               the conversation store cannot be opened or written
    ├── DatasetError             a CSV given to a command is missing, empty or malformed
    ├── ReplayError              a replay's output folder, resume or comparison run cannot be used
    └── ServeError               a `serve` child process (agent.http.launch) did not start
"""

from __future__ import annotations


class AgentError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(AgentError):
    """A bot folder file is missing or invalid; the message names file, entry and field."""


class BuildError(AgentError):
    """Build artifacts are missing, stale or unreadable; `python -m agent train` fixes it."""


class MessageError(AgentError):
    """A customer message cannot be processed: empty after cleaning, or over the length limit."""


class FaqError(AgentError):
    """A FAQ change was refused: unknown id, duplicate id or an invalid field."""


class FeedbackError(AgentError):
    """A rating was refused: the turn it names is not one of the conversation's bot replies."""


class StoreError(AgentError):
    """The conversation store cannot be opened or written."""


class DatasetError(AgentError):
    """A CSV dataset given to a command is missing, empty, undecodable or lacks a column."""


class ReplayError(AgentError):
    """A replay cannot start: its output folder holds another run, or a --compare folder has no results."""


class ServeError(AgentError):
    """A `python -m agent serve` child process exited or did not become ready; the message has its log tail."""
