"""The tiny bot trained once for the HTTP tests that start real servers or break their stores.

Each test copies it (shutil.copytree, build included), so a server's store,
FAQ index and logs stay its own. Its rate limit is off (one key sends everything) and a
numbered message waits 1 s for the one before it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tinybot import write_tiny_bot

from agent.pipeline.assemble import load_bot
from agent.steps.encoder import Encoder
from agent.training.build import build

SERVED_TINY_CONFIG = {
    "name": "Tiny bot",
    "intents": {"confident": 0.3, "oos_threshold": 0.2},
    "dialog": {"small_talk": False},
    "http": {"rate_limit": {"per_conversation": None, "per_address": None, "per_key": None}, "sequence_wait_s": 1.0},
}


@pytest.fixture(scope="session")
def served_tiny_dir(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Path:
    folder = write_tiny_bot(tmp_path_factory.mktemp("served-tiny") / "bot", config=SERVED_TINY_CONFIG)
    build(load_bot(folder), encoder=encoder, progress=False)
    return folder
