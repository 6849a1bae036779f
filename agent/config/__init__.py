"""Typed settings of a bot, read once from its `bot.yaml` and injected everywhere else.

Components never read files or environment variables for settings: they receive
the sub-model that concerns them (`EncoderConfig`, `IntentConfig`, ...).
Unknown keys are rejected so a typo ("treshold") is an error, not a silent default.

    understanding.py   encoder, intents (and fine-tuning), FAQ, docs, graph, context, dialog, limits
    decoder.py         the decoder: training, decoding, the scratch model, a remote server
    service.py         store, persona, privacy, HTTP (rate limits, webhook), placeholders
    patterns.py        pattern slots (order numbers, amounts, e-mail: details found by their shape)
    widget.py          the web chat widget: title, colours, position
    this module        BotConfig, all of bot.yaml, made of those

docs/configuration.md lists every key (`python -m agent config-reference`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from agent.config.base import _Strict
from agent.config.decoder import DecoderConfig, DecodingConfig, RemoteDecoderConfig, ScratchModelConfig, TrainingConfig
from agent.config.patterns import PatternConfig
from agent.config.service import (
    HttpConfig,
    PersonaConfig,
    PlaceholderConfig,
    PrivacyConfig,
    RateLimitConfig,
    StoreConfig,
    WebhookConfig,
)
from agent.config.understanding import (
    ContextConfig,
    DialogConfig,
    DocsConfig,
    EncoderConfig,
    FaqConfig,
    FinetuneConfig,
    GraphConfig,
    IntentConfig,
    LimitsConfig,
)
from agent.config.widget import WidgetConfig

__all__ = [
    "BotConfig",
    "ContextConfig",
    "DecoderConfig",
    "DecodingConfig",
    "DialogConfig",
    "DocsConfig",
    "EncoderConfig",
    "FaqConfig",
    "FinetuneConfig",
    "GraphConfig",
    "HttpConfig",
    "IntentConfig",
    "LimitsConfig",
    "PatternConfig",
    "PersonaConfig",
    "PlaceholderConfig",
    "PrivacyConfig",
    "RateLimitConfig",
    "RemoteDecoderConfig",
    "ScratchModelConfig",
    "StoreConfig",
    "TrainingConfig",
    "WebhookConfig",
    "WidgetConfig",
]


class BotConfig(_Strict):
    """Everything in bot.yaml."""

    # The bot's name: in chat and API titles, and in place of `{name}` in the persona sentences.
    name: str = Field(min_length=1, pattern=r"^[^{}]+$")  # no braces: the name goes into persona templates
    # The customers' language; only English for now (the encoder, sentiment lexicon and small talk are English).
    language: Literal["en"] = "en"
    # Folder where `train` writes the trained artifacts, relative to the bot folder unless absolute.
    build_dir: str = "build"
    encoder: EncoderConfig = EncoderConfig()
    intents: IntentConfig = IntentConfig()
    faq: FaqConfig = FaqConfig()
    docs: DocsConfig = DocsConfig()
    graph: GraphConfig = GraphConfig()
    dialog: DialogConfig = DialogConfig()
    limits: LimitsConfig = LimitsConfig()
    store: StoreConfig = StoreConfig()
    persona: PersonaConfig = PersonaConfig()
    decoder: DecoderConfig = DecoderConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    http: HttpConfig = HttpConfig()
    widget: WidgetConfig = WidgetConfig()  # the web chat widget (/widget.js, /widget)
    # `{{Name}}` markers of imported replies and FAQ answers -> what fills them (PlaceholderConfig).
    placeholders: dict[str, PlaceholderConfig] = Field(default_factory=dict)
    # Pattern slots: name (a slot type for templates and placeholders) -> how it is found (PatternConfig).
    patterns: dict[str, PatternConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _pattern_names(self) -> BotConfig:
        for name in self.patterns:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(
                    f"patterns: name '{name}' must be lowercase letters, digits and '_' (e.g. order_number)"
                )
        return self

    @model_validator(mode="before")
    @classmethod
    def _persona_named(cls, data: object) -> object:
        # `{name}` in the persona sentences (the defaults use it) is this bot's name.
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return data
        persona = data.get("persona")
        if persona is None or isinstance(persona, dict):
            sentences = {**PersonaConfig().model_dump(), **(persona or {})}
            named = {k: v.replace("{name}", data["name"]) if isinstance(v, str) else v for k, v in sentences.items()}
            return {**data, "persona": named}
        return data

    def build_path(self, bot_dir: Path) -> Path:
        """The folder that holds this bot's trained artifacts."""
        path = Path(self.build_dir)
        return path if path.is_absolute() else bot_dir / path

    def store_url(self, bot_dir: Path) -> str:
        """The store URL with a relative SQLite path made absolute against the bot folder."""
        prefix = "sqlite:///"
        if self.store.url.startswith(prefix) and not self.store.url.startswith(prefix + "/"):
            rest = self.store.url[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str((bot_dir / rest).resolve())
        return self.store.url
