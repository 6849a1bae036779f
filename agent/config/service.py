"""Settings of the bot as a service: its store, persona sentences, privacy, HTTP API and placeholders."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from agent.config.base import _Strict


class StoreConfig(_Strict):
    """Where conversations and FAQ entries live. A relative SQLite path is resolved against the bot folder."""

    # The database, as a SQLAlchemy URL: sqlite:///path/agent.db (a relative path is inside the bot folder) or
    # postgresql+psycopg://user@host/db.
    url: str = "sqlite:///build/agent.db"


class PersonaConfig(_Strict):
    """The fixed sentences the bot says in its own voice; `{name}` in any of them is the bot's name.

    They also answer the built-in small talk (`dialog.small_talk`) of a bot whose own
    intents do not define it: greeting, thanks, goodbye and asking for a person.
    """

    # The first line of a chat (`python -m agent chat`, the TUI) and the reply to the built-in greeting intent.
    greeting: str = "Hello! I'm {name}. How can I help?"
    # The reply to a message the bot does not handle (out of scope) that no FAQ entry or page answers either.
    fallback: str = "Sorry, I can't help with that. Could you ask me something else?"
    # The reply when the bot is unsure what the customer wants (under `intents.confident`), or when the answer it
    # found holds a `{{marker}}` it cannot fill. Like `fallback`, it counts towards `dialog.handoff_after_fallbacks`.
    clarify: str = "I'm not sure I understood. Could you rephrase that?"
    # Said when the bot hands the conversation to a person (repeated fallbacks, strong negative sentiment, a request
    # for a person with no reply of its own) and to every later message of that conversation.
    handoff: str = "I'm passing you to a member of our team, who will reply here shortly."
    # The reply to the built-in thanks intent (used when knowledge/intents.yaml defines no `thanks`).
    thanks: str = "You're welcome! Is there anything else I can help you with?"
    # The reply to the built-in goodbye intent (used when knowledge/intents.yaml defines no `goodbye`).
    goodbye: str = "Thanks for getting in touch. Goodbye!"


class PrivacyConfig(_Strict):
    """What is masked in messages before anything is stored or logged (the reply itself still sees it)."""

    mask_cards: bool = True  # Luhn-valid runs of 13-19 digits (spaces or dashes allowed between digits)
    # E-mail addresses (name@example.com) become [email] in what is stored and logged.
    mask_emails: bool = True
    mask_phones: bool = True  # 9-15 digits, or 7-15 after a leading + or 00


class RateLimitConfig(_Strict):
    """Token bucket per API key (per server process): a steady rate plus a burst."""

    requests_per_minute: float = Field(600.0, ge=0.0, description="0 turns the limit off")
    # Requests a key may send at once (the bucket's size) before the steady rate applies.
    burst: int = Field(60, ge=1, le=100_000)


class WebhookConfig(_Strict):
    """Where a handoff event is POSTed (nowhere by default) and how hard to try."""

    # Where handoff events (JSON, with the masked transcript) are POSTed; null: none are sent.
    url: str | None = Field(None, pattern=r"^https?://\S+$")
    # Seconds to wait for the receiver on each attempt; a timeout counts as a failed attempt and is retried.
    timeout_s: float = Field(5.0, gt=0.0, le=120.0)
    retries: int = Field(5, ge=0, le=20, description="attempts after the first one")
    backoff_s: float = Field(0.5, ge=0.0, le=60.0, description="first wait; doubles after each failure")


class HttpConfig(_Strict):
    """`python -m agent serve`: API keys file, limits, micro-batching, handoff webhook."""

    api_keys_file: str | None = None  # key:scope lines; relative to the bot folder; keep it out of the repository
    # Largest request body accepted, in bytes; a bigger one is refused (413) before it is read.
    max_body_bytes: int = Field(65_536, ge=1024, le=64 * 1024 * 1024)
    max_batch: int = Field(32, ge=1, le=1024, description="messages answered in one batched pass")
    # How long a message the client numbered (`seq`) waits for the number before it to arrive; then it is
    # answered anyway, and the missing number, if it comes later, gets 409.
    sequence_wait_s: float = Field(2.0, ge=0, le=60)
    rate_limit: RateLimitConfig = RateLimitConfig()
    webhook: WebhookConfig = WebhookConfig()

    def api_keys_path(self, bot_dir: Path) -> Path | None:
        """The keys file made absolute against the bot folder, if one is named."""
        if self.api_keys_file is None:
            return None
        path = Path(self.api_keys_file).expanduser()
        return path if path.is_absolute() else bot_dir / path


class PlaceholderConfig(_Strict):
    """What a `{{Name}}` marker in a reply or FAQ answer becomes: exactly one of `text`, `fact`, `slot`.

    `text` is fixed text ("+1 555 0100"); `fact` a graph fact as `entity_id.attribute`
    (`shop.phone`); `slot` an entity type whose entity the customer named in this
    conversation (its name is used). A reply whose markers cannot all be filled is not sent.
    """

    text: str | None = Field(None, min_length=1)
    fact: str | None = Field(None, pattern=r"^[a-z0-9_]+\.[a-z0-9_.]+$")
    slot: str | None = Field(None, pattern=r"^[a-z0-9_]+$")

    @model_validator(mode="after")
    def _exactly_one(self) -> PlaceholderConfig:
        given = [k for k in ("text", "fact", "slot") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of text, fact or slot (e.g. `{text: +1 555 0100}` or `{fact: shop.phone}`)"
            )
        return self
