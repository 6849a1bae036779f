"""A bot is a folder: load and validate all of its files at once.

    bot.yaml                   settings (agent.config.BotConfig)
    knowledge/intents.yaml     intents and example messages
    knowledge/faq.yaml         FAQ entries (seed of the FAQ store; optional)
    knowledge/graph.yaml       entities, relations, procedures (optional)
    dialogs/templates.yaml     answer templates per intent (optional for intents with responses)
    dialogs/responses.yaml     imported replies per intent, chosen by the message (optional)
    dialogs/conversations.yaml example conversations (optional)

Small talk (greeting, thanks, goodbye, asking for a person) and generic
out-of-scope examples are added where the author's files lack them
(agent/bot/small_talk.py).

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

from agent.bot import small_talk
from agent.bot.pages import docs_digest
from agent.bot.schemas import (
    OOS,
    ConversationsFile,
    EntryError,
    FaqEntry,
    FaqFile,
    GraphFile,
    IntentsFile,
    ResponsesFile,
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
    "responses": "dialogs/responses.yaml",
    "conversations": "dialogs/conversations.yaml",
}
REQUIRED = {"config", "intents"}
# The right shape of each file in one line, appended to its validation errors.
SHAPES = {
    "config": "name: My Shop assistant",
    "intents": "intents: [{name: track_order, examples: [where is my parcel?, has my order shipped?]}]",
    "faq": "faqs: [{id: opening-hours, question: When are you open?, answer: Every day 9:00-17:00.}]",
    "graph": "entities: [{id: parcel_express, type: delivery, name: Express delivery, attributes: {time: 1 day}}]",
    "templates": 'templates: {track_order: {text: "Track your parcel under Orders in the app."}}',
    "responses": "responses: {track_order: [{text: Track it under Orders., answers: [where is my parcel?]}]}",
    "conversations": "conversations: [{id: c1, turns: [{role: customer, text: hi, intent: greeting}]}]",
}

# What an author writes in an optional file for "none of these" (an empty file is refused: `_empty_file`).
EMPTY = {
    "faq": "faqs: []",
    "graph": "entities: []",
    "templates": "templates: {}",
    "responses": "responses: {}",
    "conversations": "conversations: []",
}

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
    responses: ResponsesFile
    conversations: ConversationsFile
    digests: dict[str, str]  # file key -> sha256 of its bytes (and of the small talk added), for incremental builds

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
        "responses": ResponsesFile,
        "conversations": ConversationsFile,
    }
    for key, rel in FILES.items():
        file = root / rel
        if not file.is_file():
            if key not in REQUIRED:
                parsed[key] = models[key]()
                digests[key] = ""
                continue
            raise ConfigError(
                f"{rel}: file is missing from bot folder '{root}' (every bot needs it; e.g. `{SHAPES[key]}`, "
                "or start a bot with `python -m agent init DIR`)."
            )
        raw = file.read_bytes()
        if not raw.strip():
            raise ConfigError(_empty_file(key, rel, len(raw)))
        digests[key] = hashlib.sha256(raw).hexdigest()
        parsed[key] = _parse(rel, raw, models[key], SHAPES[key])
    digests["docs"] = docs_digest(root)  # the help-centre pages of knowledge/docs/ ('' without any)
    if parsed["config"].dialog.small_talk:
        _add_small_talk(parsed, digests)
    bot = BotFolder(path=root, digests=digests, **parsed)
    _cross_check(bot)
    return bot


def _add_small_talk(parsed: dict[str, Any], digests: dict[str, str]) -> None:
    """The built-in small-talk intents the author's intents lack, and the persona's reply for every small-talk
    intent without a template or responses of its own (agent/bot/small_talk.py)."""
    intents: IntentsFile = parsed["intents"]
    added = small_talk.missing_intents({i.name for i in intents.intents})
    templates: TemplatesFile = parsed["templates"]
    answered = set(templates.templates) | set(parsed["responses"].responses)
    every = [*intents.intents, *added]
    replies = {
        name: spec
        for name, spec in small_talk.missing_templates(every, parsed["config"].persona).items()
        if name not in answered
    }
    if not added and not replies:
        return
    parsed["intents"] = IntentsFile.model_construct(intents=every)
    parsed["templates"] = TemplatesFile.model_construct(templates={**templates.templates, **replies})
    # What was added is part of what the intents (and the decoder's data) are built from.
    mark = f"+small talk {small_talk.SMALL_TALK_VERSION}: " + ",".join(i.name for i in added)
    digests["intents"] = hashlib.sha256((digests["intents"] + mark).encode()).hexdigest()
    said = digests["templates"] + mark + str(sorted(replies.items()))
    digests["templates"] = hashlib.sha256(said.encode()).hexdigest()


def _empty_file(key: str, rel: str, size: int) -> str:
    """Why an empty file is refused, and what to write instead.

    A file with nothing in it (0 bytes, or blanks only) is far more often a save or an export
    that went wrong than a wish, so it is not read as "no entries": an author who means none
    writes the empty list (`faqs: []`) or, for an optional file, leaves the file out. A file
    holding only comments is a deliberate choice and reads as empty.
    """
    if key in REQUIRED:
        return f"{rel}: the file is empty ({size} bytes); every bot needs it (e.g. `{SHAPES[key]}`)."
    return (
        f"{rel}: the file is empty ({size} bytes); write `{EMPTY[key]}` for none, entries "
        f"(e.g. `{SHAPES[key]}`), or remove the file (it is optional)."
    )


def _parse(rel: str, raw: bytes, model: type[M], shape: str) -> M:
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
        raise ConfigError(f"{rel}: expected a mapping at the top level, found {type(data).__name__} (e.g. `{shape}`).")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{_describe(rel, node, data, exc)} The right shape, in one line: `{shape}`.") from None


def _describe(rel: str, node: yaml.Node | None, data: Any, exc: ValidationError) -> str:
    """One line for the first validation error: file, line, entry, field, problem."""
    err = exc.errors()[0]
    loc = [part for part in err["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, EntryError):  # a check across entries names the entry at fault itself
        loc += list(cause.loc)
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
    if err["type"] == "string_type" and isinstance(err.get("input"), bool | int | float):
        # YAML reads a plain yes/no/on/off as a boolean and 1.5 as a number: the author meant the word.
        message += f" (YAML read it as {err['input']!r}: put it in quotes, e.g. 'no')"
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
    if len(intents) < 2:
        raise ConfigError(
            f"{FILES['intents']}: {len(intents)} in-scope intent(s); at least two are needed to train a classifier "
            f"(e.g. `{SHAPES['intents']}`; with `dialog.small_talk` on, greeting, thanks, goodbye and "
            "human_handoff are added)."
        )
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
    for name in bot.responses.responses:
        if name not in intents:
            raise ConfigError(
                f"{FILES['responses']}: responses of '{name}' name no intent of {FILES['intents']} "
                f"(known: {', '.join(sorted(intents)[:8])}, ...)."
            )
    missing = [n for n in bot.intent_names() if n not in bot.templates.templates and n not in bot.responses.responses]
    if missing:
        raise ConfigError(
            f"{FILES['templates']}: no template for intent(s) {', '.join(missing[:5])}; every intent needs a "
            f"template (e.g. `{SHAPES['templates']}`) or responses in {FILES['responses']}."
        )
    unknown = [n for n in bot.config.dialog.handoff_intents if n not in intents]
    if unknown and "handoff_intents" in bot.config.dialog.model_fields_set:
        raise ConfigError(
            f"bot.yaml: dialog.handoff_intents names '{unknown[0]}', which is not an intent of {FILES['intents']} "
            f"(known: {', '.join(sorted(intents)[:8])}, ...)."
        )
    for name, proc in bot.graph.procedures.items():
        if name not in intents:
            raise ConfigError(f"{FILES['graph']}: procedures.{name}: no such intent in {FILES['intents']}.")
        template = bot.templates.templates.get(name)
        slots = template.slots if template is not None else {}
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
