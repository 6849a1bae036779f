"""Editing a bot's YAML files in place: the author's comments and order are kept (ruamel.yaml).

ruamel.yaml writes YAML 1.2, where `no`, `yes`, `on` and `off` are plain strings; the bot
folder is read with PyYAML (YAML 1.1), where they are booleans, so an intent named `no`
(CLINC150 has one) or an example reading "yes" would come back as `False` or `True`. Every
string PyYAML would not read back as that string is written quoted.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter

_STR = "tag:yaml.org,2002:str"
_YAML11 = pyyaml.resolver.Resolver()  # how the bot folder's reader (PyYAML) types a plain scalar


def _represent_str(representer: RoundTripRepresenter, value: str) -> object:
    if _YAML11.resolve(pyyaml.ScalarNode, value, (True, False)) != _STR:
        return representer.represent_scalar(_STR, value, style="'")
    return representer.represent_str(value)


class _Representer(RoundTripRepresenter):
    """ruamel's round-trip representer, writing strings so that YAML 1.1 reads them back as strings."""


_Representer.add_representer(str, _represent_str)


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: comments, key order and quoting survive a load and a dump
    yaml.Representer = _Representer
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
