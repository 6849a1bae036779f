"""The `serve` launcher: a server that cannot start is one ServeError carrying its log, not a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.exceptions import ServeError
from agent.http.launch import ServedProcess, free_port


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with pytest.raises(ServeError, match=r"server exited with 2: .*does not exist"):
        ServedProcess.start(tmp_path / "no-bot", "sqlite://", 1, "k:chat", log, timeout_s=60)


def test_free_port_is_bindable() -> None:
    assert 1024 <= free_port() <= 65535
