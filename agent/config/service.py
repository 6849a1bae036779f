"""Settings of the bot as a service: its store, persona sentences, privacy, HTTP API and placeholders."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import phonenumbers
from limits import parse_many
from pydantic import Field, ValidationInfo, field_validator, model_validator

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
    """What is masked in messages before anything is stored, logged or written by replay (the reply still sees it).

    Each kind becomes a placeholder: [iban], [card], [email], [dob] (or [date]), [secret], [phone]
    (agent/pipeline/pii.py finds them; README.md, "Privacy").
    """

    mask_cards: bool = True  # Luhn-valid card numbers of 13-19 digits, unbroken or grouped by spaces, - . or /
    # IBANs of any country, with or without spaces, when their country format and mod-97 checksum hold.
    mask_ibans: bool = True
    # E-mail addresses (name@example.com) become [email] in what is stored and logged.
    mask_emails: bool = True
    # Phone numbers that libphonenumber finds valid: in the `phone_regions` national formats, or any
    # country's after + or 00. Amounts, order numbers and dates stay.
    mask_phones: bool = True
    # Where customers' national phone numbers come from (ISO 3166 codes); + or 00 numbers are found whatever these.
    phone_regions: list[str] = Field(default_factory=lambda: ["GB"], min_length=1)
    # What follows "password", "passcode", "PIN", "CVV", "security code", "memorable word"...: the phrase
    # stays ("my pin is [secret]") so the turn can still be read.
    mask_secrets: bool = True
    # birth: dates after "born", "date of birth", "DOB", "birthday" become [dob]; all: every date with a year
    # too ([date]; dates of payments then go as well); none: dates stay.
    mask_dates: Literal["birth", "all", "none"] = "birth"

    @field_validator("phone_regions")
    @classmethod
    def _known_regions(cls, regions: list[str]) -> list[str]:
        upper = [region.upper() for region in regions]
        unknown = [region for region in upper if region not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown phone region {unknown[0]!r}; expected ISO 3166 codes such as GB, US, DE")
        return upper


LIMIT_NOTATION = "the `limits` notation: '30/minute', '5/second;30/minute' ('N per period' also works)"


def _limit(value: str | None, key: str) -> str | None:
    """A rate limit string checked once, here, so a typo is a one-line error at load time."""
    if value is None:
        return None
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"{key} '{value}' is not a rate limit; write it in {LIMIT_NOTATION}, or null") from None
    return value


class RateLimitConfig(_Strict):
    """Rate limits of `serve`, counted in `storage` (shared by every worker when it is Redis); 429 + Retry-After.

    A message counts against its conversation; a request with a widget key or a
    conversation token against the client's address; a request with a chat or
    admin key against that key. Each limit is null (none) or in the `limits`
    notation, several joined by ';' ("5/second;30/minute": both hold).
    """

    # Where the counts live: "memory://" (this process only: with --workers N each worker counts alone, and
    # `serve` warns) or "redis://host:6379" / "rediss://..." (shared by every worker and server using it).
    storage: str = Field("memory://", pattern=r"^(memory|redis|rediss|redis\+unix)://\S*$")
    # "moving-window" (exact: at most N in any period), "fixed-window" (cheapest; up to 2N across a window
    # boundary) or "sliding-window-counter" (an approximation of the moving window at fixed-window cost).
    strategy: Literal["moving-window", "fixed-window", "sliding-window-counter"] = "moving-window"
    # Messages one conversation may send: a customer typing. Nobody types 30 messages a minute; a script
    # flooding one conversation is refused, and the other conversations are not affected.
    per_conversation: str | None = "30/minute"
    # Requests (creating conversations, messages, transcripts) one client address may make with a widget key or a
    # conversation token: one browser, or an office behind one NAT address.
    per_address: str | None = "120/minute"
    # Requests one chat or admin key may make (server-to-server: a help desk carrying many customers on one key).
    # 50 conversations x 20 messages at full speed is 1,000 requests: one key serving them never meets it.
    per_key: str | None = "6000/minute"

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, data: object) -> object:
        if isinstance(data, dict) and {"requests_per_minute", "burst"} & set(data):
            raise ValueError(
                "requests_per_minute and burst were replaced by per_conversation, per_address and per_key "
                "(e.g. `per_key: 600/minute`) and storage; see docs/configuration.md"
            )
        return data

    @field_validator("per_conversation", "per_address", "per_key")
    @classmethod
    def _valid_limit(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _limit(value, info.field_name or "limit")


class WebhookConfig(_Strict):
    """Where a handoff event is POSTed (nowhere by default) and how hard to try."""

    # Where handoff events (JSON, with the masked transcript) are POSTed; null: none are sent.
    url: str | None = Field(None, pattern=r"^https?://\S+$")
    # Seconds to wait for the receiver on each attempt; a timeout counts as a failed attempt and is retried.
    timeout_s: float = Field(5.0, gt=0.0, le=120.0)
    retries: int = Field(5, ge=0, le=20, description="attempts after the first one")
    backoff_s: float = Field(0.5, ge=0.0, le=60.0, description="first wait; doubles after each failure")


class HttpConfig(_Strict):
    """`python -m agent serve`: API keys, conversation tokens, CORS, limits, micro-batching, handoff webhook."""

    api_keys_file: str | None = None  # key:scope lines; relative to the bot folder; keep it out of the repository
    # File holding the secret (32+ characters) that signs conversation tokens, relative to the bot folder; keep it
    # out of the repository. Or set AGENT_TOKEN_SECRET (not both). Required when a widget key is configured.
    token_secret_file: str | None = None
    # Seconds a conversation token stays valid after the conversation is created; then the widget starts anew.
    token_ttl_s: int = Field(86_400, ge=60, le=30 * 86_400)
    # Web pages (origins such as "https://www.example.com") whose scripts may call the API from a browser; "*" is
    # any site. None by default: only the server's own pages (e.g. /widget) and non-browser clients.
    cors_origins: list[str] = Field(default_factory=list)
    # Largest request body accepted, in bytes; a bigger one is refused (413) before it is read.
    max_body_bytes: int = Field(65_536, ge=1024, le=64 * 1024 * 1024)
    max_batch: int = Field(32, ge=1, le=1024, description="messages answered in one batched pass")
    # How long a message the client numbered (`seq`) waits for the number before it to arrive; then it is
    # answered anyway, and the missing number, if it comes later, gets 409.
    sequence_wait_s: float = Field(2.0, ge=0, le=60)
    rate_limit: RateLimitConfig = RateLimitConfig()
    webhook: WebhookConfig = WebhookConfig()

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != "*" and not re.match(r"^https?://[^/\s]+$", value):
                raise ValueError(f"'{value}' is not an origin; write scheme and host, e.g. https://www.example.com")
        return values

    def api_keys_path(self, bot_dir: Path) -> Path | None:
        """The keys file made absolute against the bot folder, if one is named."""
        return _beside(self.api_keys_file, bot_dir)

    def token_secret_path(self, bot_dir: Path) -> Path | None:
        """The token secret file made absolute against the bot folder, if one is named."""
        return _beside(self.token_secret_file, bot_dir)


def _beside(name: str | None, bot_dir: Path) -> Path | None:
    if name is None:
        return None
    path = Path(name).expanduser()
    return path if path.is_absolute() else bot_dir / path


class PlaceholderConfig(_Strict):
    """What a `{{Name}}` marker in a reply or FAQ answer becomes: exactly one of `text`, `fact`, `slot`.

    `text` is fixed text ("+1 555 0100"); `fact` a graph fact as `entity_id.attribute`
    (`shop.phone`); `slot` an entity type whose entity the customer named in this
    conversation (its name is used), or a pattern of `patterns:` (the value the customer gave).
    A reply whose markers cannot all be filled is not sent.
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
