"""The build folder's manifest: what each artifact must be built from, and whether it is stale.

Artifacts and what makes them stale (their fingerprint):

    intents/   intent head     intents.yaml, intent settings, encoder weights
    graph/     knowledge graph graph.yaml, graph settings
    faq/       FAISS index     FAQ entries in the store (seeded from faq.yaml), encoder weights
    responses/ past messages   responses.yaml, run-time encoder weights (only for a bot with responses)
    docs/      page passages   the pages of knowledge/docs/, run-time encoder weights (only with pages)
    decoder/   language model  everything its training data is made from, and its training settings

`build/manifest.json` records each fingerprint. Both layers read this module:
training writes the manifest, the dialog manager refuses a stale build. It
also names the encoder the steps use at run time (the fine-tuned copy in the
build folder when `intents.finetune` is on).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from agent.bot.folder import BotFolder
from agent.config import BotConfig, EncoderConfig
from agent.steps.encoder import encoder_fingerprint

# Bump when an artifact's format or training code changes, so old builds are redone.
BUILD_VERSION = "1"
MANIFEST = "manifest.json"
TUNED_ENCODER = "encoder"  # folder of the fine-tuned encoder inside the build folder


def runtime_encoder_config(config: BotConfig, build: Path) -> EncoderConfig:
    """The encoder every step uses at run time: the tuned copy in `build` when fine-tuning is on."""
    if not config.intents.finetune.enabled:
        return config.encoder
    return tuned_encoder_config(config.encoder, build)


def tuned_encoder_config(base: EncoderConfig, build: Path) -> EncoderConfig:
    """`base` with its weights replaced by the fine-tuned folder in `build`."""
    return base.model_copy(update={"model": str((build / TUNED_ENCODER).resolve())})


def fingerprints(bot: BotFolder) -> dict[str, str]:
    """The fingerprint each artifact must have to be up to date (FAQ excluded: it follows the store)."""
    enc = encoder_fingerprint(bot.config.encoder)
    cfg = bot.config
    prints = {
        "intents": _hash(BUILD_VERSION, bot.digests["intents"], cfg.intents.model_dump_json(), enc),
        "graph": _hash(BUILD_VERSION, bot.digests["graph"], cfg.graph.model_dump_json()),
    }
    if bot.responses.responses:
        # Encoded with the run-time encoder, which the intents' training may have fine-tuned.
        prints["responses"] = _hash(BUILD_VERSION, bot.digests["responses"], prints["intents"], enc)
    if bot.digests.get("docs"):
        prints["docs"] = _hash(BUILD_VERSION, bot.digests["docs"], prints["intents"], enc)
    if cfg.decoder.enabled:
        # Everything the training data is made from; decoding and serving settings do not count.
        training = cfg.decoder.model_dump_json(exclude={"enabled", "backend", "decoding", "remote", "min_logprob"})
        files = [bot.digests[k] for k in ("faq", "templates", "conversations")]
        if bot.responses.responses:  # (kept out of the hash otherwise, so older builds stay valid)
            files.append(bot.digests["responses"])
        prints["decoder"] = _hash(
            BUILD_VERSION,
            prints["intents"],
            prints["graph"],
            *files,
            training,
            cfg.faq.model_dump_json(),
            cfg.dialog.model_dump_json(),
            str(cfg.decoder.decoding.max_new_tokens),
        )
    return prints


def stale_artifacts(bot: BotFolder) -> list[str]:
    """Artifacts that are missing or older than the bot's files."""
    built = read_manifest(bot.build_path)
    return [name for name, fp in fingerprints(bot).items() if built.get(name) != fp]


def stale_for_loading(bot: BotFolder, decoder: bool = True) -> list[str]:
    """The stale artifacts a process loading the bot needs: the decoder's only when it runs it locally."""
    local_decoder = decoder and bot.config.decoder.backend == "local"
    return [name for name in stale_artifacts(bot) if local_decoder or name != "decoder"]


def read_manifest(build: Path) -> dict[str, str]:
    try:
        return json.loads((build / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def write_manifest(build: Path, manifest: dict[str, str]) -> None:
    """Replace the manifest atomically: a killed build never leaves half a file."""
    tmp = build / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(build / MANIFEST)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
