"""`python -m agent serve-decoder`: the local decoder behind an OpenAI-compatible completions API.

One GPU machine runs this (or vLLM on the same `save_pretrained` folder); many
agent workers set `decoder.backend: remote` and send their prompts here.
Implements the subset the remote backend uses: POST /v1/completions with a
list of prompts, max_tokens, temperature, top_p, top_k, repetition_penalty,
seed, logprobs; GET /v1/models; GET /health.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from agent.config import DecodingConfig
from agent.steps.decoder.backends import LocalDecoder


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI clients send fields this server has no use for

    model: str = "bot-decoder"
    prompt: str | list[str]
    max_tokens: int = Field(96, ge=1, le=2048)
    temperature: float = Field(0.0, ge=0.0, le=5.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    top_k: int = -1
    repetition_penalty: float = Field(1.0, ge=1.0, le=3.0)
    num_beams: int = Field(1, ge=1, le=32)
    seed: int | None = None
    logprobs: int | None = None


def create_app(decoder: LocalDecoder, model_name: str = "bot-decoder") -> FastAPI:
    """The FastAPI app serving `decoder`; generation is serialised (one model, one batch at a time)."""
    app = FastAPI(title="support-agent decoder", version="1")
    lock = threading.Lock()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "device": decoder.device}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_name, "object": "model", "owned_by": "support-agent"}]}

    @app.post("/v1/completions")
    def completions(request: CompletionRequest) -> dict[str, Any]:
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if request.num_beams > 1:
            mode = "beam"
        elif request.temperature > 0:
            mode = "sample"
        else:
            mode = "greedy"
        decoding = DecodingConfig(
            mode=mode,
            num_beams=request.num_beams,
            top_k=max(request.top_k, 0),
            top_p=request.top_p,
            temperature=request.temperature or 1.0,
            repetition_penalty=request.repetition_penalty,
            max_new_tokens=request.max_tokens,
            seed=request.seed if request.seed is not None else 7,
        )
        with lock:
            decoder.decoding = decoding
            generations = decoder.generate(prompts) if prompts else []
        choices = []
        for index, gen in enumerate(generations):
            choice: dict[str, Any] = {"index": index, "text": gen.text, "finish_reason": "stop", "logprobs": None}
            if request.logprobs is not None and gen.mean_logprob is not None:
                # The mean is what the agent uses; it is spread over the tokens so clients averaging get it back.
                choice["logprobs"] = {"token_logprobs": [gen.mean_logprob] * max(gen.tokens, 1)}
            choices.append(choice)
        return {
            "id": f"cmpl-{uuid.uuid4().hex[:16]}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": model_name,
            "choices": choices,
            "usage": {"completion_tokens": sum(g.tokens for g in generations)},
        }

    return app


def run(args: argparse.Namespace) -> int:
    """Entry point of `python -m agent serve-decoder`."""
    import uvicorn

    from agent.pipeline.assemble import load_bot

    bot = load_bot(args.bot)
    cfg = bot.config.decoder
    folder = Path(args.model) if args.model else bot.build_path / "decoder"
    decoder = LocalDecoder(folder, cfg.decoding, cfg.device, cfg.max_prompt_tokens)
    uvicorn.run(create_app(decoder, cfg.remote.model), host=args.host, port=args.port, log_level="warning")
    return 0
