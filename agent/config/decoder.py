"""Settings of the decoder: how it is trained, how it decodes, where it runs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agent.config.base import _Strict


class DecodingConfig(_Strict):
    """How the decoder picks tokens: greedy, beam search or sampling."""

    # "greedy": always the likeliest next token (the same prompt gets the same reply); "beam": the likeliest
    # whole reply among `num_beams` candidates (slower); "sample": random draws shaped by `top_k`, `top_p` and
    # `temperature` (varied replies).
    mode: Literal["greedy", "beam", "sample"] = "greedy"
    # Candidate replies followed in beam mode (ignored otherwise); more: slower.
    num_beams: int = Field(4, ge=1, le=32)
    # Sample mode only: draw each token from the k likeliest; 0: no limit.
    top_k: int = Field(50, ge=0)
    # Sample mode only: draw from the likeliest tokens that together hold this probability; 1: no limit.
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    # Sample mode only: lower makes replies more predictable, higher more varied.
    temperature: float = Field(0.7, gt=0.0, le=5.0)
    # Above 1, tokens already in the prompt or the reply become less likely to be written again; 1: no penalty.
    repetition_penalty: float = Field(1.0, ge=1.0, le=3.0)
    no_repeat_ngram_size: int = Field(0, ge=0, le=20)  # 0 allows repeats; small models loop without it
    # Longest reply, in tokens (a longer one is cut off); training answers are cut to it too, so changing it
    # retrains the decoder.
    max_new_tokens: int = Field(96, ge=1, le=2048)
    seed: int = 7  # sampling is reproducible for a given seed and batch


class TrainingConfig(_Strict):
    """Fine-tuning the decoder on the bot's own answers."""

    method: Literal["auto", "full", "lora"] = "auto"  # auto: full below 200M parameters, LoRA above
    # Most passes over the training examples; training stops earlier on `patience` or `max_minutes`.
    epochs: int = Field(30, ge=1, le=1000)
    # Examples per training step.
    batch_size: int = Field(16, ge=1, le=1024)
    # Peak learning rate (AdamW): it warms up over the first 5% of the steps, then follows a cosine down to 5% of
    # the peak.
    learning_rate: float = Field(2e-3, gt=0.0)
    # Share of the examples kept out of training (at least one) to measure the validation loss, which picks the
    # checkpoint kept and decides when to stop early.
    val_fraction: float = Field(0.1, gt=0.0, lt=0.5)
    patience: int = Field(3, ge=1, le=100)  # evaluations without validation improvement before stopping
    max_minutes: float = Field(5.0, gt=0.0)  # wall-clock budget; the best checkpoint so far is kept
    augment: int = Field(1, ge=0, le=10)  # noisy copies of each customer message (typos, case, punctuation)
    # Rank of the LoRA adapters when LoRA is used: higher trains more parameters; ignored by full fine-tuning.
    lora_r: int = Field(8, ge=1, le=256)
    # Random seed of the starting weights, the intent examples picked and their noisy copies, the validation split
    # and the batch order.
    seed: int = 11


class ScratchModelConfig(_Strict):
    """Size of the GPT-2 built from scratch when `decoder.base` is "scratch"."""

    # Transformer layers: more make a larger model, slower to train.
    layers: int = Field(3, ge=1, le=48)
    # Size of the model's hidden vectors (GPT-2's n_embd); must be a multiple of `heads`.
    width: int = Field(192, ge=32, le=4096)
    # Attention heads per layer; `width` must be a multiple of it.
    heads: int = Field(4, ge=1, le=64)
    vocab_size: int = Field(8192, ge=300, le=100_000)  # byte-level BPE trained on the bot's own text
    # Let BPE merges cross spaces, so the phrases the bot's answers repeat ("per withdrawal (minimum")
    # become single tokens: sequences are ~4x shorter, so an epoch is ~4x faster, and the model makes
    # ~3x fewer choices per answer (BENCHMARKS.md, issue 3). False: one word at most per token, as GPT-2.
    phrase_tokens: bool = True
    # Dropout slows a small model that must learn the bot's answers closely; 0.1 is GPT-2's own value.
    dropout: float = Field(0.0, ge=0.0, lt=1.0)


class RemoteDecoderConfig(_Strict):
    """An OpenAI-compatible completions endpoint (e.g. vLLM, or `python -m agent serve-decoder`)."""

    # Base URL of the server: prompts are POSTed to `<url>/completions`.
    url: str = "http://127.0.0.1:8100/v1"
    # Model name sent with each request (`python -m agent serve-decoder` serves "bot-decoder").
    model: str = "bot-decoder"
    # Seconds to wait for the server's reply to a batch of prompts; after that the answers as written are sent.
    timeout_s: float = Field(3.0, gt=0.0, le=120.0)
    # Sent as `Authorization: Bearer <key>`; null: no key is sent.
    api_key: str | None = None


class DecoderConfig(_Strict):
    """The fine-tuned language model that writes answers from the grounding."""

    # True: `train` also fine-tunes a language model (minutes) that rewrites FAQ, template and page answers in its
    # own words; a rewrite is sent only when it is confident and grounded, else the answer as written is sent.
    enabled: bool = False
    # "local": the model `train` saved in the build folder runs in this process; "remote": prompts go to
    # `decoder.remote` (an OpenAI-compatible server), and when it fails the answer as written is sent.
    backend: Literal["local", "remote"] = "local"
    # "scratch": a small GPT-2 trained from scratch on the bot's data (default, fits a CPU);
    # "minilm": warm-start from the MiniLM encoder loaded as a causal LM; otherwise a Hugging Face
    # causal LM name or local folder (GPT-2, Llama, Qwen ...), fine-tuned the same way.
    base: str = "scratch"
    # Where the local decoder trains and runs: "auto" is the GPU when torch sees one, else the CPU.
    device: Literal["auto", "cpu", "cuda"] = "auto"
    min_logprob: float = Field(-0.35, le=0.0)  # mean token log-probability a reply must reach
    # ROUGE-L F1 a reply must share with the policy's own answer: a small model that garbles a
    # sentence can still be fluent-looking and number-free, so staying close to the grounded answer
    # is part of being confident. Lower it for a large, trusted model that rephrases freely.
    min_draft_overlap: float = Field(0.6, ge=0.0, le=1.0)
    # Most knowledge-graph facts put in the prompt (the answer's own first, then those of the entities the
    # message names); 0: none.
    max_facts: int = Field(8, ge=0, le=100)
    # Put the policy's own answer in the prompt ("draft:"), as a response rephraser: see prompt.py.
    prompt_draft: bool = False
    # Longest prompt, in tokens: a longer one loses its beginning (the intent and first facts), never the
    # customer's message. Part of what the decoder is trained on: changing it retrains it.
    max_prompt_tokens: int = Field(384, ge=32, le=32768)
    decoding: DecodingConfig = DecodingConfig()
    training: TrainingConfig = TrainingConfig()
    scratch: ScratchModelConfig = ScratchModelConfig()
    examples_per_intent: int = Field(12, ge=1, le=10_000)  # intent examples used as customer messages
    examples_per_answer: int = Field(4, ge=1, le=10_000)  # cap on examples sharing one target answer
    remote: RemoteDecoderConfig = RemoteDecoderConfig()
