"""Fine-tuning the decoder: base model, tokenisation, the training loop, early stopping.

Bases:
- "scratch": a small GPT-2 built from a config, with a byte-level BPE tokenizer trained
  on the bot's own text (nothing pretrained exists offline; a few MB of weights). Its merges
  may cross spaces, so a phrase the answers repeat ("per withdrawal (minimum") is one token:
  a model that makes a few dozen choices per answer instead of a few hundred learns the
  bot's answers within the first-run budget on a CPU.
- "minilm": the MiniLM sentence encoder loaded as a causal LM (`is_decoder=True`),
  warm-starting from weights this machine has.
- anything else: a Hugging Face causal LM name or folder (GPT-2, Llama, Qwen ...).
  Models over 200M parameters are tuned with LoRA (peft) when `method: auto`.

Loss is on the answer tokens only; the best validation checkpoint is kept.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.config import DecoderConfig
from agent.exceptions import BuildError
from agent.steps.decoder.backends import pick_device
from agent.steps.encoder import bundled_minilm_path
from agent.training.decoder_data import Example

LORA_ABOVE = 200_000_000
SPECIALS = {"eos_token": "<|endoftext|>", "pad_token": "<|pad|>"}


@dataclass
class FitReport:
    examples: int
    train_examples: int
    val_examples: int
    epochs_run: int
    best_val_loss: float
    seconds: float
    parameters: int
    method: str
    device: str


def build_base(config: DecoderConfig, corpus: list[str]) -> tuple[Any, Any]:
    """The model and tokenizer to fine-tune, as `config.base` names them."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(config.training.seed)
    if config.base == "scratch":
        return _scratch(config, corpus)
    path = str(bundled_minilm_path()) if config.base == "minilm" else config.base
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        if config.base == "minilm":
            from transformers import BertLMHeadModel

            model = BertLMHeadModel.from_pretrained(path, is_decoder=True)
        else:
            model = AutoModelForCausalLM.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise BuildError(
            f"bot.yaml: decoder.base '{config.base}' cannot be loaded offline ({str(exc).splitlines()[0]}); "
            "use 'scratch', 'minilm' or a local folder with a Hugging Face causal LM."
        ) from None
    if tokenizer.eos_token is None:
        tokenizer.eos_token = tokenizer.sep_token or SPECIALS["eos_token"]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.eos_token_id = tokenizer.eos_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    return model, tokenizer


def _scratch(config: DecoderConfig, corpus: list[str]) -> tuple[Any, Any]:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    size = config.scratch
    bpe = Tokenizer(models.BPE())
    # Without GPT-2's word-splitting regex a merge may span words: frequent phrases become one token.
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=not size.phrase_tokens)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=size.vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIALS.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # any byte can be written, seen or not
        max_token_length=64,  # phrases, not whole answers: the model still composes each reply
        show_progress=False,
    )
    bpe.train_from_iterator(corpus, trainer)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, **SPECIALS)
    gpt = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=config.max_prompt_tokens + config.decoding.max_new_tokens + 8,
        n_embd=size.width,
        n_layer=size.layers,
        n_head=size.heads,
        resid_pdrop=size.dropout,
        embd_pdrop=size.dropout,
        attn_pdrop=size.dropout,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return GPT2LMHeadModel(gpt), tokenizer


def _encode(examples: list[Example], tokenizer: Any, max_prompt: int, max_answer: int) -> list[tuple[list[int], int]]:
    """Token ids of prompt + answer + eos, and where the answer starts (loss is on the answer only)."""
    encoded = []
    eos = tokenizer.eos_token_id
    for ex in examples:
        prompt = tokenizer(ex.prompt, add_special_tokens=False)["input_ids"][-max_prompt:]
        answer = tokenizer(" " + ex.target, add_special_tokens=False)["input_ids"][:max_answer]
        encoded.append((prompt + answer + [eos], len(prompt)))
    return encoded


def _batches(rows: list[tuple[list[int], int]], size: int, rng: random.Random) -> list[list[tuple[list[int], int]]]:
    """Batches of similar length (little padding), in random order."""
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]) + rng.random())
    batches = [[rows[i] for i in order[s : s + size]] for s in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def _tensors(batch: list[tuple[list[int], int]], pad: int, device: str) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (tokens, start) in enumerate(batch):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, start : len(tokens)] = torch.tensor(tokens[start:])
        mask[row, : len(tokens)] = 1
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def finetune(
    model: Any, tokenizer: Any, examples: list[Example], config: DecoderConfig, progress: bool = False
) -> tuple[Any, FitReport]:
    """Train on `examples` with a validation split and early stopping; returns the best model."""
    import torch

    cfg = config.training
    device = pick_device(config.device)
    started = time.perf_counter()
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    params = sum(p.numel() for p in model.parameters())
    method = cfg.method if cfg.method != "auto" else ("lora" if params > LORA_ABOVE else "full")
    if method == "lora":
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=2 * cfg.lora_r, target_modules="all-linear"))
    model.to(device)
    rows = _encode(examples, tokenizer, config.max_prompt_tokens, config.decoding.max_new_tokens)
    rng.shuffle(rows)
    n_val = max(1, int(len(rows) * cfg.val_fraction))
    val, train = rows[:n_val], rows[n_val:]
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=0.01)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.05, 0.5 * (1 + math.cos(math.pi * s / total)))
    )
    # Mixed precision on a GPU; plain fp32 on a CPU, where bf16 matmuls are slow on most chips.
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)
    )
    best_loss, best_state, stale, epochs_run = float("inf"), None, 0, 0
    deadline = started + cfg.max_minutes * 60
    bar = _progress(progress, total)
    for _epoch in range(cfg.epochs):
        model.train()
        for batch in _batches(train, cfg.batch_size, rng):
            with autocast:
                loss = model(**_tensors(batch, tokenizer.pad_token_id, device)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad(set_to_none=True)
            if bar is not None:
                bar.advance(loss=float(loss.detach()))
            if time.perf_counter() > deadline:
                break
        epochs_run += 1
        val_loss = _evaluate(model, val, tokenizer.pad_token_id, device, cfg.batch_size, autocast)
        if bar is not None:
            bar.note(f"epoch {epochs_run}: validation loss {val_loss:.3f}")
        if val_loss < best_loss - 1e-4:
            best_loss, stale = val_loss, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
        if stale >= cfg.patience or time.perf_counter() > deadline:
            break
    if bar is not None:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    if method == "lora":
        model = model.merge_and_unload()
    model.eval()
    return model, FitReport(
        examples=len(rows),
        train_examples=len(train),
        val_examples=len(val),
        epochs_run=epochs_run,
        best_val_loss=round(best_loss, 4),
        seconds=round(time.perf_counter() - started, 1),
        parameters=params,
        method=method,
        device=device,
    )


def _evaluate(model: Any, rows: list, pad: int, device: str, size: int, autocast: Any) -> float:
    import torch

    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode(), autocast:
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            tensors = _tensors(batch, pad, device)
            tokens = int((tensors["labels"][:, 1:] != -100).sum())
            total += float(model(**tensors).loss) * tokens
            count += tokens
    return total / max(count, 1)


class _Bar:
    """A rich progress bar over training steps showing the running loss and steps/s."""

    def __init__(self, total: int) -> None:
        from agent.progress import make_progress

        self.progress = make_progress("step")
        self.progress.start()
        self.task = self.progress.add_task("decoder fine-tuning", total=total, rate="")
        self.smoothed: float | None = None

    def advance(self, loss: float) -> None:
        self.smoothed = loss if self.smoothed is None else 0.9 * self.smoothed + 0.1 * loss
        speed = self.progress.tasks[0].speed
        rate = f"loss {self.smoothed:.3f}" + (f" · {speed:.1f} step/s" if speed else "")
        self.progress.update(self.task, advance=1, rate=rate)

    def note(self, text: str) -> None:
        self.progress.console.print(text)

    def close(self) -> None:
        self.progress.stop()


def _progress(enabled: bool, total: int) -> _Bar | None:
    return _Bar(total) if enabled else None


def save(model: Any, tokenizer: Any, folder: Path) -> None:
    """`save_pretrained` output: loadable by AutoModelForCausalLM / AutoTokenizer and by vLLM."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
