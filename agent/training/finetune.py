"""Fine-tuning the sentence encoder on a bot's intent examples (bot.yaml `intents.finetune`).

Only the top `layers` transformer layers are trained; the embeddings and lower
layers stay frozen. Their output for every training message is computed once
and cached, so an epoch costs one forward and backward pass through the top
layers only: on a 2-core CPU that is the difference between minutes and an
hour for ten thousand messages. The training head is a cosine-softmax
classifier (normalised class vectors times a fixed scale) over the same
mean-pooled, normalised embedding the pipeline uses, so what is learned is
exactly what every step later reads from `turn.embedding`.

The result is a complete Hugging Face encoder folder (weights, tokenizer and a
`finetune.json` naming what it was trained from), loaded by `Encoder` like any
other local model folder. With `members` above 1, `finetune_encoder` trains
that many copies with different seeds (the same examples) into sub-folders of
one ensemble folder; `Encoder` concatenates their embeddings. Independent
tunings disagree on different messages, so the ensemble classifies, and
separates out-of-scope messages, better than any one of them (BENCHMARKS.md,
CLINC150), at the cost of one fine-tuning per member and one forward pass per
member at run time.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from agent.config import FinetuneConfig
from agent.exceptions import ConfigError
from agent.steps.encoder import ENSEMBLE_FILE, Encoder

FINETUNE_META = "finetune.json"


@dataclass(frozen=True)
class FinetuneReport:
    """What a fine-tuning run did."""

    examples: int
    classes: int
    epochs: int
    steps: int
    final_loss: float
    seconds: float
    path: str
    members: int = 1


def finetune_encoder(
    encoder: Encoder,
    texts: Sequence[str],
    labels: Sequence[str],
    config: FinetuneConfig,
    out: Path,
    fingerprint: str,
    progress: bool = False,
) -> FinetuneReport:
    """Train the top layers of a copy of `encoder` to separate `labels`; save the tuned encoder in `out`.

    `encoder` itself is left unchanged. `fingerprint` is written into the folder so
    artifacts built with these weights can tell them from any other tuning. With
    `config.members` above 1, that many copies are tuned (seeds `seed`, `seed + 1`, ...)
    into sub-folders `member-0`, `member-1`, ... listed in `out/ensemble.json`, written
    beside `out` and moved in place once all are trained (an interrupted run never
    leaves a partial ensemble as `out`).
    """
    if len(encoder.models) > 1:  # tuning only its first member would quietly drop the others
        raise ConfigError(
            f"bot.yaml: encoder.model '{encoder.config.model}' is an ensemble of {len(encoder.models)} encoders; "
            "fine-tune from one encoder folder (intents.finetune.members builds an ensemble from it)."
        )
    if config.members == 1:
        return _train(encoder, texts, labels, _Member(config, out, fingerprint), progress)
    tmp = out.with_name(out.name + ".members")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    reports = []
    for k in range(config.members):
        member = _Member(
            config.model_copy(update={"seed": config.seed + k}),
            tmp / f"member-{k}",
            f"{fingerprint}-{k}",
            label=f"member {k + 1}/{config.members}, ",
        )
        reports.append(_train(encoder, texts, labels, member, progress))
    (tmp / ENSEMBLE_FILE).write_text(json.dumps({"members": [f"member-{k}" for k in range(config.members)]}))
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    return FinetuneReport(
        examples=reports[0].examples,
        classes=reports[0].classes,
        epochs=config.epochs,
        steps=sum(r.steps for r in reports),
        final_loss=round(float(np.mean([r.final_loss for r in reports])), 4),
        seconds=round(sum(r.seconds for r in reports), 1),
        path=str(out),
        members=config.members,
    )


@dataclass(frozen=True)
class _Member:
    """One encoder of a tuning: its settings (the seed differs per member), folder, fingerprint, progress label."""

    config: FinetuneConfig
    out: Path
    fingerprint: str
    label: str = ""


def _train(
    encoder: Encoder, texts: Sequence[str], labels: Sequence[str], member: _Member, progress: bool
) -> FinetuneReport:
    """Tune one copy of `encoder` as `member` says and save it in `member.out`."""
    config, out, fingerprint, label = member.config, member.out, member.fingerprint, member.label
    import copy

    import torch

    started = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = copy.deepcopy(encoder.model).eval()
    layers = model.encoder.layer
    top = min(config.layers, len(layers))
    split = len(layers) - top
    for parameter in model.parameters():
        parameter.requires_grad = False
    trained = [p for layer in layers[split:] for p in layer.parameters()]
    for parameter in trained:
        parameter.requires_grad = True

    examples, targets = _augmented(texts, labels, config.augment, rng)
    names = sorted(set(targets))
    y = torch.tensor([names.index(label) for label in targets])
    cache = _lower_states(model, encoder.tokenizer, examples, split, config.max_length, progress)

    dim = int(model.config.hidden_size)
    head = torch.nn.Parameter(torch.randn(len(names), dim) * 0.02)
    optimiser = torch.optim.AdamW(
        [{"params": trained, "lr": config.learning_rate}, {"params": [head], "lr": config.head_learning_rate}],
        weight_decay=0.01,
    )
    per_epoch = math.ceil(len(examples) / config.batch_size)
    total = per_epoch * config.epochs
    warmup = max(1, int(0.06 * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / total)
    )
    model.train()  # dropout in the trained layers regularises; frozen layers' outputs come from the cache
    loss_value = float("nan")
    step = 0
    for epoch in range(config.epochs):
        batches = _batches([len(c) for c in cache], config.batch_size, rng)
        steps: Iterable[list[int]] = batches
        if progress:  # lazily: the bar advances as batches train, with its rate and time left
            from agent.progress import track

            description = f"fine-tuning {label}epoch {epoch + 1}/{config.epochs}"
            steps = track(batches, description=description, total=len(batches), unit="batch")
        running = []
        for batch in steps:
            hidden, mask = _collate([cache[i] for i in batch], dim)
            pooled = _top_pass(layers[split:], hidden, mask)
            logits = config.scale * pooled @ torch.nn.functional.normalize(head, dim=1).T
            loss = torch.nn.functional.cross_entropy(logits, y[batch], label_smoothing=config.label_smoothing)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            running.append(float(loss.detach()))
            step += 1
        loss_value = float(np.mean(running)) if running else loss_value
    model.eval()
    _save(model, encoder, out, fingerprint, config)
    report = FinetuneReport(
        examples=len(examples),
        classes=len(names),
        epochs=config.epochs,
        steps=step,
        final_loss=round(loss_value, 4),
        seconds=round(time.perf_counter() - started, 1),
        path=str(out),
    )
    (out / FINETUNE_META).write_text(json.dumps({"fingerprint": fingerprint, "report": asdict(report)}, indent=1))
    return report


def _extended_mask(mask):
    """The additive attention mask BERT layers take: 0 where attended, a large negative number on padding."""
    import torch

    return (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min


def _top_pass(layers, hidden, mask):
    """Run the trained layers and mean-pool exactly as `Encoder` does (then normalise)."""
    import torch

    extended = _extended_mask(mask)
    for layer in layers:
        hidden = layer(hidden, attention_mask=extended)
        hidden = hidden[0] if isinstance(hidden, tuple) else hidden
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def _lower_states(model, tokenizer, texts: Sequence[str], split: int, max_length: int, progress: bool) -> list:
    """The frozen part's output (one unpadded [tokens, dim] tensor per text), computed once."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    cache: list = [None] * len(texts)
    starts = range(0, len(order), 128)
    if progress:
        from agent.progress import track

        starts = track(starts, description="encoding frozen layers", total=len(starts), unit="batch")
    with torch.inference_mode():
        for start in starts:
            idx = order[start : start + 128]
            batch = tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            hidden = model.embeddings(input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids"))
            extended = _extended_mask(batch["attention_mask"])
            for layer in model.encoder.layer[:split]:
                hidden = layer(hidden, attention_mask=extended)
                hidden = hidden[0] if isinstance(hidden, tuple) else hidden
            lengths = batch["attention_mask"].sum(1).tolist()
            for row, i in enumerate(idx):
                cache[i] = hidden[row, : int(lengths[row])].clone()
    return cache


def _collate(states: list, dim: int):
    import torch

    longest = max(len(s) for s in states)
    hidden = torch.zeros(len(states), longest, dim)
    mask = torch.zeros(len(states), longest, dtype=torch.long)
    for row, state in enumerate(states):
        hidden[row, : len(state)] = state
        mask[row, : len(state)] = 1
    return hidden, mask


def _batches(lengths: list[int], size: int, rng: np.random.Generator) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), in shuffled order."""
    order = rng.permutation(len(lengths))
    window = size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window].tolist(), key=lambda i: lengths[i])
        batches.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(batches)  # type: ignore[arg-type]
    return batches


def _augmented(
    texts: Sequence[str], labels: Sequence[str], copies: int, rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """The messages plus `copies` noisy variants of each (typos, casing, punctuation), same labels."""
    out_texts, out_labels = list(texts), list(labels)
    if copies:
        noise = random.Random(int(rng.integers(1 << 31)))
        for _ in range(copies):
            out_texts.extend(noisy(text, noise) for text in texts)
            out_labels.extend(labels)
    return out_texts, out_labels


def noisy(text: str, rng: random.Random) -> str:
    """A plausible customer variant of `text`: one typo, changed casing or punctuation (never empty)."""
    kind = rng.randrange(4)
    if kind == 0 and len(text) > 3:
        i = rng.randrange(len(text) - 1)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # swap two neighbours
    elif kind == 1 and len(text) > 3:
        i = rng.randrange(len(text))
        text = text[:i] + text[i + 1 :]  # drop a character
    elif kind == 2:
        text = text.lower() if rng.random() < 0.7 else text.upper()
    else:
        text = text.rstrip("?.! ") if text[-1:] in "?.!" else text + rng.choice(["?", ".", "!!"])
    return text or "?"


def _save(model, encoder: Encoder, out: Path, fingerprint: str, config: FinetuneConfig) -> None:
    """Write a complete encoder folder atomically (a half-written folder is never left as `out`)."""
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(str(tmp))
    encoder.tokenizer.save_pretrained(str(tmp))
    (tmp / FINETUNE_META).write_text(json.dumps({"fingerprint": fingerprint}))
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
