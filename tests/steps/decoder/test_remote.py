"""The OpenAI-compatible backend against the project's own serve-decoder on loopback, and a server that hangs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from threaded import uvicorn_thread
from tiny_decoder import BASIC, PLUS, TARGETS

from agent.config import DecoderConfig, DecodingConfig, RemoteDecoderConfig
from agent.http.decoder_server import create_app
from agent.http.launch import free_port
from agent.pipeline.dialog import Agent
from agent.steps.decoder.backends import LocalDecoder, RemoteDecoder
from agent.steps.decoder.step import Decoder
from agent.steps.encoder import Encoder
from agent.steps.graph import KnowledgeGraph


@pytest.fixture(scope="module")
def server_url(tiny_decoder_dir: Path) -> Iterator[str]:
    """serve-decoder's app under a real uvicorn on a free loopback port."""
    app = create_app(LocalDecoder(tiny_decoder_dir, DecodingConfig(max_new_tokens=24)), "tiny")
    with uvicorn_thread(app, log_level="warning") as url:
        yield f"{url}/v1"


@pytest.fixture(scope="module")
def hanging_url() -> Iterator[str]:
    """A server that accepts the request and answers only after 3 seconds."""

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(3)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Slow)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_remote_matches_local(server_url: str, tiny_trained_dir: Path, encoder: Encoder) -> None:
    agent = Agent.load(tiny_trained_dir, encoder=encoder, store_url="sqlite:///:memory:")
    config = DecoderConfig(
        enabled=True,
        backend="remote",
        min_logprob=-1.0,
        remote=RemoteDecoderConfig(url=server_url, model="tiny", timeout_s=30),
        decoding=DecodingConfig(max_new_tokens=24),
    )
    backend = RemoteDecoder(config.remote, config.decoding)
    agent.steps.append(Decoder(backend, agent.step(KnowledgeGraph), config))
    plus, basic = agent.respond_batch([("p", PLUS), ("b", BASIC)])
    assert basic.source == "decoder" and basic.text == TARGETS[BASIC] and basic.decoder.backend == "remote"  # type: ignore[union-attr]
    assert plus.source == "template" and "unsupported value 'eur 9.99'" in plus.decoder.rejected  # type: ignore[union-attr]
    backend.close()
    agent.close()


def test_timeout_falls_back_to_the_template(hanging_url: str, tiny_trained_dir: Path, encoder: Encoder) -> None:
    agent = Agent.load(tiny_trained_dir, encoder=encoder, store_url="sqlite:///:memory:")
    config = DecoderConfig(enabled=True, backend="remote", remote=RemoteDecoderConfig(url=hanging_url, timeout_s=0.3))
    agent.steps.append(Decoder(RemoteDecoder(config.remote, config.decoding), agent.step(KnowledgeGraph), config))
    started = time.perf_counter()
    reply = agent.respond("t", BASIC)
    assert time.perf_counter() - started < 2.5
    assert reply.source == "template" and reply.text == "The Basic card costs EUR 0 a month."
    assert reply.decoder is not None and reply.decoder.rejected[0].startswith("remote decoder timed out")
    assert agent.conversation("t") is not None  # the turn was kept
    agent.close()


def test_refused_connection_falls_back(tiny_trained_dir: Path, encoder: Encoder) -> None:
    agent = Agent.load(tiny_trained_dir, encoder=encoder, store_url="sqlite:///:memory:")
    config = DecoderConfig(
        enabled=True,
        backend="remote",
        remote=RemoteDecoderConfig(url=f"http://127.0.0.1:{free_port()}/v1", timeout_s=2),
    )
    agent.steps.append(Decoder(RemoteDecoder(config.remote, config.decoding), agent.step(KnowledgeGraph), config))
    reply = agent.respond("r", BASIC)
    assert reply.source == "template" and reply.decoder.rejected[0].startswith("remote decoder failed")  # type: ignore[union-attr]
    agent.close()
