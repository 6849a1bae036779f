"""The configuration reference (docs/configuration.md), generated from the settings models.

Every key of bot.yaml is a field of `agent.config.BotConfig` or of a model under it;
its type, default and range come from the field, its meaning from the field's
`description` or, where it has none, the comment lines just above it in
agent/config/ (the comments are the documentation; this keeps one copy of it).

    python -m agent config-reference            write docs/configuration.md
    python -m agent config-reference --check    exit 1 when the file is out of date
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from agent.config import BotConfig

HEADER = """\
# Configuration reference

Every key of a bot's `bot.yaml`, generated from `agent/config/` by
`python -m agent config-reference` (a test fails when this file is out of date).
Only `name` is required; an unknown key is an error, so a typo never passes silently.

The three thresholds a bot author tunes first, in plain words:

- `intents.confident`: how sure the bot must be that it understood what the customer wants
  before it gives that intent's reply. Lower: more messages answered, more of them wrongly.
- `intents.oos_threshold`: under this the message is treated as something the bot does not
  handle at all ("Sorry, I can't help with that"), unless an FAQ entry or a help-centre page
  answers it. Raise it to refuse more readily.
- `faq.answer_threshold`: how closely a message must match an FAQ question (cosine similarity,
  1 is the same sentence) for that FAQ's answer to be given.
"""


def reference() -> str:
    """The whole reference as Markdown."""
    lines = [HEADER]
    for path, model in _sections(BotConfig, ""):
        title = f"`{path}`" if path else "Top level"
        lines += ["", f"## {title}", "", _doc(model), "", "| key | type | default | allowed | meaning |"]
        lines.append("| --- | --- | --- | --- | --- |")
        comments = _comments(model)
        for name, field in model.model_fields.items():
            if _submodel(field.annotation) is not None:
                continue
            key = f"{path}.{name}" if path else name
            meaning = field.description or comments.get(name, "")
            row = [f"`{key}`", _type(field.annotation), _default(field), _range(field), meaning]
            lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |")
    return "\n".join(lines).rstrip() + "\n"


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reference(), encoding="utf-8")


def _sections(model: type[BaseModel], path: str) -> list[tuple[str, type[BaseModel]]]:
    out = [(path, model)]
    for name, field in model.model_fields.items():
        sub = _submodel(field.annotation)
        if sub is not None:
            out += _sections(sub, f"{path}.{name}" if path else name)
    return out


def _submodel(annotation: object) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _doc(model: type[BaseModel]) -> str:
    return " ".join(inspect.cleandoc(model.__doc__ or "").split("\n\n")[0].split())


def _comments(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the comment lines right above it (or at its line's end) in the model's source."""
    out: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(model).splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = re.match(r"^\s{4}(\w+)\s*:", line)
        if match:
            inline = line.split("  # ", 1)[1].strip() if "  # " in line else ""
            out[match.group(1)] = " ".join([*pending, inline]).strip()
        pending = []
    return out


def _type(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return ""
    return f"`{value!r}`" if value not in (None, "") else ("`null`" if value is None else '`""`')


def _range(field: FieldInfo) -> str:
    parts = []
    for meta in field.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("min_length", "length >=")):
            if getattr(meta, attr, None) is not None:
                parts.append(f"{sign} {getattr(meta, attr)}")
        if getattr(meta, "pattern", None):
            parts.append(f"matches `{meta.pattern}`")
    return ", ".join(parts)
