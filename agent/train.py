"""`python -m agent train`: build every artifact of a bot into its build folder.

Artifacts and what makes them stale (their fingerprint):

    intents/   intent head     intents.yaml, intent settings, encoder weights
    graph/     knowledge graph graph.yaml, graph settings
    faq/       FAISS index     FAQ entries in the store (seeded from faq.yaml), encoder weights

`build/manifest.json` records each fingerprint; an artifact whose fingerprint
is unchanged is not rebuilt, and the encoder is not even loaded when nothing
needs encoding, so a second run after no change takes seconds.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from agent.botfolder import BotFolder
from agent.intent_training import runtime_encoder_config, train_intents
from agent.schemas import OOS
from agent.steps.encoder import Encoder, encoder_fingerprint
from agent.steps.faq import FaqIndex, entry_digest
from agent.steps.graph import KnowledgeGraph
from agent.store import Store

# Bump when an artifact's format or training code changes, so old builds are redone.
BUILD_VERSION = "1"
MANIFEST = "manifest.json"


@dataclass
class BuildReport:
    """What `build` did, artifact by artifact."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    faq_seeded: tuple[int, int, int] = (0, 0, 0)
    faq_encoded: int = 0
    seconds: float = 0.0


def fingerprints(bot: BotFolder) -> dict[str, str]:
    """The fingerprint each artifact must have to be up to date (FAQ excluded: it follows the store)."""
    enc = encoder_fingerprint(bot.config.encoder)
    cfg = bot.config
    prints = {
        "intents": _hash(BUILD_VERSION, bot.digests["intents"], cfg.intents.model_dump_json(), enc),
        "graph": _hash(BUILD_VERSION, bot.digests["graph"], cfg.graph.model_dump_json()),
    }
    if cfg.decoder.enabled:
        # Everything the training data is made from; decoding and serving settings do not count.
        training = cfg.decoder.model_dump_json(exclude={"enabled", "backend", "decoding", "remote", "min_logprob"})
        files = [bot.digests[k] for k in ("faq", "templates", "conversations")]
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


def read_manifest(build: Path) -> dict[str, str]:
    try:
        return json.loads((build / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def build(
    bot: BotFolder,
    store: Store | None = None,
    encoder: Encoder | None = None,
    force: bool = False,
    progress: bool = True,
    console: Console | None = None,
) -> BuildReport:
    """Bring every artifact of `bot` up to date; returns what was done."""
    console = console or Console(stderr=True, quiet=not progress)
    started = time.perf_counter()
    report = BuildReport()
    out = bot.build_path
    out.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(out)
    wanted = fingerprints(bot)
    own_store = store is None
    store = store or Store(bot.store_url)
    lazy = _LazyEncoder(bot, encoder, console)
    try:
        if force or manifest.get("graph") != wanted["graph"]:
            graph = KnowledgeGraph.from_spec(bot.graph, bot.config.graph)
            graph.save(out / "graph")
            console.print(f"graph: {graph.graph.number_of_nodes()} entities, {graph.fact_count()} facts")
            report.built.append("graph")
        else:
            report.skipped.append("graph")
        manifest["graph"] = wanted["graph"]

        tuned_missing = bot.config.intents.finetune.enabled and not (out / "encoder" / "config.json").is_file()
        if force or tuned_missing or manifest.get("intents") != wanted["intents"]:
            texts, labels = [], []
            for spec in bot.intents.intents:
                texts.extend(spec.examples)
                labels.extend([spec.name] * len(spec.examples))
            # The same function `eval intents` calls; with fine-tuning on it also saves out/encoder.
            trained = train_intents(
                texts, labels, lazy.base(), bot.config.intents, out, wanted["intents"], progress=progress
            )
            classifier = trained.classifier
            classifier.save(out / "intents")
            lazy.encoder = trained.encoder  # later artifacts encode with the encoder the classifier reads
            n_in = len([lab for lab in labels if lab != OOS])
            console.print(
                f"intents: {len(classifier.labels)} classes from {n_in} examples "
                f"+ {len(labels) - n_in} out-of-scope, temperature {classifier.temperature:.2f}"
            )
            report.built.append("intents")
        else:
            report.skipped.append("intents")
        manifest["intents"] = wanted["intents"]

        report.faq_seeded = store.seed_faqs(bot.faq_entries(), bot.digests["faq"])
        report.faq_encoded = sync_faq_index(bot, store, lazy, force=force, progress=progress)
        (report.built if report.faq_encoded or force else report.skipped).append("faq")
        _write_manifest(out, manifest)

        if "decoder" in wanted:
            if force or manifest.get("decoder") != wanted["decoder"]:
                # Imported here: the decoder's training data comes from a loaded Agent (agent.dialog).
                from agent.decoder.build import train_decoder

                fit = train_decoder(bot, store.engine.url.render_as_string(hide_password=False), lazy.get(), progress)
                console.print(
                    f"decoder: {fit.parameters:,} parameters ({fit.method}, {fit.device}), {fit.examples} examples, "
                    f"{fit.epochs_run} epochs, validation loss {fit.best_val_loss:.3f}, {fit.seconds:.0f}s"
                )
                report.built.append("decoder")
            else:
                report.skipped.append("decoder")
            manifest["decoder"] = wanted["decoder"]
            _write_manifest(out, manifest)
    finally:
        if own_store:
            store.close()
    report.seconds = time.perf_counter() - started
    console.print(
        f"build: {', '.join(report.built) or 'nothing'} rebuilt, {', '.join(report.skipped) or 'nothing'} "
        f"up to date; FAQ store +{report.faq_seeded[0]} ~{report.faq_seeded[1]} -{report.faq_seeded[2]}, "
        f"{report.faq_encoded} FAQ entries encoded; {report.seconds:.1f}s -> {out}"
    )
    return report


def sync_faq_index(
    bot: BotFolder, store: Store, lazy: _LazyEncoder, force: bool = False, progress: bool = False
) -> int:
    """Make the saved FAQ index match the store's entries; encodes only changed entries."""
    folder = bot.build_path / "faq"
    fingerprint = encoder_fingerprint(runtime_encoder_config(bot.config, bot.build_path))
    entries = store.faq_entries()
    index = None
    if not force and (folder / "meta.json").is_file():
        index = FaqIndex.load(folder, bot.config.faq, fingerprint)
        unchanged = {e.id for e in entries if index.digests.get(e.id) == entry_digest(e)}
        if len(unchanged) == len(entries) == len(index.vector_ids):
            return 0
        if not index.vector_ids:  # built with other weights (loaded empty): its width may be another encoder's
            index = None
    if index is None:
        index = FaqIndex(lazy.dim, bot.config.faq, fingerprint)
    encoded = index.sync(entries, lambda texts: lazy.get().encode(texts, progress=progress))
    index.save(folder)
    return encoded


class _LazyEncoder:
    """Loads the encoder the first time something actually needs encoding."""

    def __init__(self, bot: BotFolder, encoder: Encoder | None, console: Console) -> None:
        self.bot, self.encoder, self.console = bot, encoder, console

    def get(self) -> Encoder:
        """The run-time encoder (the fine-tuned one when `intents.finetune` is on)."""
        if self.encoder is None or self.encoder.fingerprint != self._runtime_fingerprint():
            self.console.print("loading the sentence encoder ...")
            self.encoder = Encoder(runtime_encoder_config(self.bot.config, self.bot.build_path))
        return self.encoder

    def base(self) -> Encoder:
        """The encoder named in bot.yaml, before any fine-tuning."""
        if self.encoder is not None and self.encoder.fingerprint == encoder_fingerprint(self.bot.config.encoder):
            return self.encoder
        self.console.print("loading the sentence encoder ...")
        return Encoder(self.bot.config.encoder)

    def _runtime_fingerprint(self) -> str:
        return encoder_fingerprint(runtime_encoder_config(self.bot.config, self.bot.build_path))

    @property
    def dim(self) -> int:
        return self.get().dim


def _write_manifest(out: Path, manifest: dict[str, str]) -> None:
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(out / MANIFEST)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
