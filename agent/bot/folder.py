"""A bot is a folder: load and validate all of its files at once.

    bot.yaml                   settings (agent.config.BotConfig)
    knowledge/intents.yaml     intents and example messages
    knowledge/faq.yaml         FAQ entries (seed of the FAQ store)
    knowledge/graph.yaml       entities, relations, procedures
    dialogs/templates.yaml     answer templates per intent
    dialogs/conversations.yaml example conversations (optional)

Every mistake is reported as one `ConfigError` line naming the file, the line,
the entry and the field; nothing is returned half-loaded. `read_bot` checks
what the files alone can tell; `agent.pipeline.load_bot` then checks what
needs the built graph (every template placeholder resolves) and is what
commands and the dialog manager call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from agent.bot.schemas import (
    OOS,
    ConversationsFile,
    FaqEntry,
    FaqFile,
    GraphFile,
    IntentsFile,
    TemplatesFile,
)
from agent.config import BotConfig
from agent.exceptions import ConfigError

FILES = {
    "config": "bot.yaml",
    "intents": "knowledge/intents.yaml",
    "faq": "knowledge/faq.yaml",
    "graph": "knowledge/graph.yaml",
    "templates": "dialogs/templates.yaml",
    "conversations": "dialogs/conversations.yaml",
}
OPTIONAL = {"conversations"}

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class BotFolder:
    """The validated contents of a bot folder."""

    path: Path
    config: BotConfig
    intents: IntentsFile
    faq: FaqFile
    graph: GraphFile
    templates: TemplatesFile
    conversations: ConversationsFile
    digests: dict[str, str]  # file key -> sha256 of its bytes, for incremental builds

    @property
    def build_path(self) -> Path:
        return self.config.build_path(self.path)

    @property
    def store_url(self) -> str:
        return self.config.store_url(self.path)

    def intent_names(self, include_oos: bool = False) -> list[str]:
        return [i.name for i in self.intents.intents if include_oos or i.name != OOS]

    def faq_entries(self) -> list[FaqEntry]:
        return list(self.faq.faqs)


def read_bot(path: str | Path) -> BotFolder:
    """Read and validate every file of the bot folder at `path` (each file, and names across files)."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(f"Bot folder '{path}' does not exist (expected a folder holding bot.yaml).")
    digests: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    models: dict[str, type[BaseModel]] = {
        "config": BotConfig,
        "intents": IntentsFile,
        "faq": FaqFile,
        "graph": GraphFile,
        "templates": TemplatesFile,
        "conversations": ConversationsFile,
    }
    for key, rel in FILES.items():
        file = root / rel
        if not file.is_file():
            if key in OPTIONAL:
                parsed[key] = models[key]()
                digests[key] = ""
                continue
            raise ConfigError(f"{rel}: file is missing from bot folder '{root}' (every bot needs it).")
        raw = file.read_bytes()
        digests[key] = hashlib.sha256(raw).hexdigest()
        parsed[key] = _parse(rel, raw, models[key])
    bot = BotFolder(path=root, digests=digests, **parsed)
    _cross_check(bot)
    return bot


def _parse(rel: str, raw: bytes, model: type[M]) -> M:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{rel}: not UTF-8 text (byte {exc.start}); save the file as UTF-8.") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{rel}{where}: invalid YAML: {problem}.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{rel}: expected a mapping at the top level, found {type(data).__name__}.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(rel, node, data, exc)) from None


def _describe(rel: str, node: yaml.Node | None, data: Any, exc: ValidationError) -> str:
    """One line for the first validation error: file, line, entry, field, problem."""
    err = exc.errors()[0]
    loc = [part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    path = ""
    entry = ""
    value: Any = data
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
            if isinstance(value, dict):
                label = value.get("id") or value.get("name")
                if label:
                    entry = f" ({'id' if 'id' in value else 'name'} '{label}')"
        else:
            value = None
    line = _line_of(node, loc)
    where = f" line {line}" if line else ""
    message = err["msg"].removeprefix("Value error, ")
    field = f"{path}{entry}: " if path else ""
    return f"{rel}{where}: {field}{message}."


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """Follow `loc` through the YAML node tree to report a 1-based line number."""
    found = node
    for part in loc:
        if isinstance(found, yaml.MappingNode):
            nxt = next((v for k, v in found.value if getattr(k, "value", None) == str(part)), None)
        elif isinstance(found, yaml.SequenceNode) and isinstance(part, int) and part < len(found.value):
            nxt = found.value[part]
        else:
            nxt = None
        if nxt is None:
            break
        found = nxt
    return found.start_mark.line + 1 if found is not None else None


def _cross_check(bot: BotFolder) -> None:
    """Checks that need more than one file."""
    intents = set(bot.intent_names())
    known_with_oos = intents | {OOS}
    for faq in bot.faq.faqs:
        if faq.intent is not None and faq.intent not in known_with_oos:
            raise ConfigError(
                f"{FILES['faq']}: faqs (id '{faq.id}'): intent '{faq.intent}' is not in {FILES['intents']}."
            )
    for name in bot.templates.templates:
        if name not in intents:
            raise ConfigError(
                f"{FILES['templates']}: template '{name}' names no intent of {FILES['intents']} "
                f"(known: {', '.join(sorted(intents)[:8])}, ...)."
            )
    missing = [name for name in bot.intent_names() if name not in bot.templates.templates]
    if missing:
        raise ConfigError(
            f"{FILES['templates']}: no template for intent(s) {', '.join(missing[:5])}; every intent needs one."
        )
    for name, proc in bot.graph.procedures.items():
        if name not in intents:
            raise ConfigError(f"{FILES['graph']}: procedures.{name}: no such intent in {FILES['intents']}.")
        slots = bot.templates.templates[name].slots
        for slot in proc.required:
            if slot not in slots:
                raise ConfigError(
                    f"{FILES['graph']}: procedures.{name}.required: slot '{slot}' is not declared "
                    f"in {FILES['templates']} for '{name}' (declared: {', '.join(slots) or 'none'})."
                )
    for conv in bot.conversations.conversations:
        for i, turn in enumerate(conv.turns):
            if turn.intent is not None and turn.intent not in known_with_oos:
                raise ConfigError(
                    f"{FILES['conversations']}: conversation '{conv.conversation_id}' turn {i}: "
                    f"intent '{turn.intent}' is not in {FILES['intents']}."
                )
