"""Where the decoder runs: a local Hugging Face causal LM, or an OpenAI-compatible server.

Both take a batch of prompts and return, per prompt, the generated text and
its mean token log-probability. With `streams`, a prompt that has a sink gets
its raw text so far as it is generated: token by token from the local model
(greedy and sample modes; beam search cannot stream, since its best reply is
known only at the end), and not at all from the remote server, whose answer
arrives whole (the decoder step then sends it as one piece). A remote failure (timeout, refused, bad
answer) comes back as a `Generation` with `error` set, never as an exception:
the turn then keeps the policy's own answer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agent.config import DecodingConfig, RemoteDecoderConfig
from agent.exceptions import BuildError
from agent.steps.decoder.stream import RawSink, RowStreamer


@dataclass(frozen=True)
class Generation:
    text: str
    mean_logprob: float | None
    error: str | None = None
    tokens: int = 0


class DecoderBackend(Protocol):
    """Anything that continues prompts: the local model or a remote endpoint."""

    name: str

    def generate(self, prompts: Sequence[str], streams: Sequence[RawSink | None] | None = None) -> list[Generation]: ...


def pick_device(device: str) -> str:
    """'auto' is CUDA when torch sees a GPU, else CPU."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class LocalDecoder:
    """A causal LM from a folder written by `save_pretrained` (or any Hugging Face model id on disk)."""

    name = "local"

    def __init__(
        self, model_path: str | Path, decoding: DecodingConfig, device: str = "auto", max_prompt_tokens: int = 384
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = pick_device(device)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model_path))
            dtype = torch.float32
            if self.device == "cuda":
                dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            self.model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype).to(self.device).eval()
        except (OSError, ValueError) as exc:
            raise BuildError(
                f"Decoder model at '{model_path}' cannot be loaded ({str(exc).splitlines()[0]}); "
                "run `python -m agent train` or fix decoder.base in bot.yaml."
            ) from None
        # Decoder-only models continue the right end of the prompt: pad and cut on the left.
        self.tokenizer.padding_side = "left"
        self.tokenizer.truncation_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.decoding = decoding
        self.max_prompt_tokens = max_prompt_tokens
        self._torch = torch

    def generate(self, prompts: Sequence[str], streams: Sequence[RawSink | None] | None = None) -> list[Generation]:
        torch = self._torch
        cfg = self.decoding
        batch = self.tokenizer(
            list(prompts), return_tensors="pt", padding=True, truncation=True, max_length=self.max_prompt_tokens
        ).to(self.device)
        batch.pop("token_type_ids", None)
        options: dict[str, object] = {
            "max_new_tokens": cfg.max_new_tokens,
            "repetition_penalty": cfg.repetition_penalty,
            "no_repeat_ngram_size": cfg.no_repeat_ngram_size,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.tokenizer.eos_token_id,
            "output_scores": True,
            "return_dict_in_generate": True,
        }
        if cfg.mode == "sample":
            options.update(do_sample=True, top_k=cfg.top_k, top_p=cfg.top_p, temperature=cfg.temperature)
            torch.manual_seed(cfg.seed)
        elif cfg.mode == "beam":
            options.update(do_sample=False, num_beams=cfg.num_beams)
        else:
            options.update(do_sample=False, num_beams=1)
        if streams and any(sink is not None for sink in streams) and cfg.mode != "beam":
            options["streamer"] = RowStreamer(self.tokenizer, streams)
        with torch.inference_mode():
            out = self.model.generate(**batch, **options)
            scores = self.model.compute_transition_scores(
                out.sequences, out.scores, getattr(out, "beam_indices", None), normalize_logits=cfg.mode != "beam"
            )
        new_tokens = out.sequences[:, batch["input_ids"].shape[1] :]
        results = []
        for row, row_scores in zip(new_tokens, scores, strict=True):
            keep = []
            for token, score in zip(row.tolist(), row_scores.tolist(), strict=False):
                if token == self.tokenizer.pad_token_id and token != self.tokenizer.eos_token_id:
                    break
                keep.append((token, score))
                if token == self.tokenizer.eos_token_id:
                    break
            tokens = [t for t, _ in keep if t != self.tokenizer.eos_token_id]
            logprobs = [s for _, s in keep if s > float("-inf")]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True).strip()
            mean = sum(logprobs) / len(logprobs) if logprobs else None
            results.append(Generation(text=text, mean_logprob=mean, tokens=len(tokens)))
        return results


class RemoteDecoder:
    """Client of an OpenAI-compatible `/completions` endpoint; errors become `Generation.error`."""

    name = "remote"

    def __init__(self, config: RemoteDecoderConfig, decoding: DecodingConfig) -> None:
        import httpx

        self.config = config
        self.decoding = decoding
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.client = httpx.Client(base_url=config.url.rstrip("/"), timeout=config.timeout_s, headers=headers)

    def generate(self, prompts: Sequence[str], streams: Sequence[RawSink | None] | None = None) -> list[Generation]:
        """The completions of `prompts`; `streams` is ignored (the answer arrives whole)."""
        import httpx

        cfg = self.decoding
        body: dict[str, object] = {
            "model": self.config.model,
            "prompt": list(prompts),
            "max_tokens": cfg.max_new_tokens,
            "temperature": cfg.temperature if cfg.mode == "sample" else 0.0,
            "top_p": cfg.top_p if cfg.mode == "sample" else 1.0,
            "top_k": cfg.top_k if cfg.mode == "sample" else -1,
            "repetition_penalty": cfg.repetition_penalty,
            "logprobs": 1,
            "seed": cfg.seed,
        }
        if cfg.mode == "beam":
            body["num_beams"] = cfg.num_beams
        started = time.perf_counter()
        try:
            response = self.client.post("/completions", json=body)
            response.raise_for_status()
            choices = sorted(response.json()["choices"], key=lambda c: c["index"])
            if len(choices) != len(prompts):
                raise ValueError(f"{len(choices)} choices for {len(prompts)} prompts")
        except httpx.TimeoutException:
            waited = time.perf_counter() - started
            return [Generation("", None, f"remote decoder timed out after {waited:.1f}s")] * len(prompts)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return [Generation("", None, f"remote decoder failed: {message}")] * len(prompts)
        results = []
        for choice in choices:
            logprobs = [lp for lp in ((choice.get("logprobs") or {}).get("token_logprobs") or []) if lp is not None]
            mean = sum(logprobs) / len(logprobs) if logprobs else None
            results.append(
                Generation(text=str(choice.get("text", "")).strip(), mean_logprob=mean, tokens=len(logprobs))
            )
        return results

    def close(self) -> None:
        self.client.close()
