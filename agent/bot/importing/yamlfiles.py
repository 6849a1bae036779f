"""Editing a bot's YAML files in place: the author's comments and order are kept (ruamel.yaml)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, key order and quoting survive a load and a dump
    yaml.width = 4096  # one reply per line, never folded
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    return yaml


def load(path: Path, key: str, empty: Any) -> CommentedMap:
    """The document of `path` (a new one when the file is missing), with `key` holding `empty` if absent."""
    data = _yaml().load(path.read_text(encoding="utf-8")) if path.is_file() else None
    if data is None:
        data = CommentedMap()
    if data.get(key) is None:
        data[key] = CommentedSeq() if isinstance(empty, list) else CommentedMap()
    data[key].fa.set_block_style()  # `intents: []` written by init grows as a block list, one entry a line
    return data


def dump(data: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def save(path: Path, data: CommentedMap) -> None:
    """Write `data` to `path` atomically (a killed import leaves the old file whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(dump(data), encoding="utf-8")
    tmp.replace(path)
