"""`python -m agent train`: build every artifact of a bot into its build folder.

What each artifact is built from, and so when it is stale, is said in
agent.pipeline.artifacts (the manifest both layers read). An artifact whose
fingerprint is unchanged is not rebuilt, and the encoder is not even loaded
when nothing needs encoding, so a second run after no change takes seconds.

    report = build(load_bot("path/to/bot"))     # what `train` runs
    agent = load_trained("path/to/bot")         # build what is stale, then Agent.load
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from agent.bot.folder import BotFolder
from agent.bot.importing.messages import DRAFT, HELDOUT, markers_in, read_heldout
from agent.bot.pages import read_passages
from agent.bot.schemas import OOS, marker_key
from agent.pipeline.artifacts import (
    TUNED_ENCODER,
    fingerprints,
    read_manifest,
    runtime_encoder_config,
    stale_for_loading,
    write_manifest,
)
from agent.pipeline.assemble import load_bot
from agent.pipeline.dialog import Agent
from agent.steps.docs import DocsIndex
from agent.steps.encoder import Encoder, encoder_fingerprint
from agent.steps.faq import FaqIndex, entry_digest
from agent.steps.graph import KnowledgeGraph
from agent.steps.intents import IntentClassifier
from agent.steps.responses import ResponseSelector
from agent.storage.store import Store
from agent.training.decoder import train_decoder
from agent.training.intents import train_intents

HELDOUT_CHECKED = 2000  # the held-out check classifies at most this many (a stable sample)
HELDOUT_CACHE = "heldout_check.json"


@dataclass
class BuildReport:
    """What `build` did, artifact by artifact."""

    built: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    faq_seeded: tuple[int, int, int] = (0, 0, 0)
    faq_encoded: int = 0
    seconds: float = 0.0


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
        # Each stage runs when its artifact is stale (or `force`), then the manifest records it as built.
        def stage(name: str, run: Callable[[], str], stale: bool = False) -> None:
            if force or stale or manifest.get(name) != wanted[name]:
                console.print(run())
                report.built.append(name)
            else:
                report.skipped.append(name)
            manifest[name] = wanted[name]
            write_manifest(out, manifest)

        stage("graph", lambda: _build_graph(bot))
        tuned_missing = bot.config.intents.finetune.enabled and not (out / TUNED_ENCODER / "config.json").is_file()
        stage("intents", lambda: _build_intents(bot, lazy, wanted["intents"], progress), stale=tuned_missing)
        for name, make in (("responses", _build_responses), ("docs", _build_docs)):
            if name in wanted:
                stage(name, lambda make=make: make(bot, lazy, progress))
            elif name in manifest:  # the bot no longer has any: its old artifact must not be loaded
                shutil.rmtree(out / name, ignore_errors=True)
                del manifest[name]
                write_manifest(out, manifest)
        report.faq_seeded = store.seed_faqs(bot.faq_entries(), bot.digests["faq"])
        report.faq_encoded = sync_faq_index(bot, store, lazy, force=force, progress=progress)
        (report.built if report.faq_encoded or force else report.skipped).append("faq")
        if "decoder" in wanted:
            # The decoder's training data comes from the pipeline just built, over this same store.
            stage(
                "decoder",
                lambda: _build_decoder(bot, Agent.assemble(bot, store, encoder=lazy.get(), decoder=False), progress),
            )
        for line in unmapped_markers(bot):
            console.print(line)
        if (bot.path / HELDOUT).is_file():
            console.print(_heldout_check(bot, lazy, wanted["intents"]))
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


def _build_graph(bot: BotFolder) -> str:
    graph = KnowledgeGraph.from_spec(bot.graph, bot.config.graph)
    graph.save(bot.build_path / KnowledgeGraph.artifact)
    return f"graph: {graph.graph.number_of_nodes()} entities, {graph.fact_count()} facts"


def _build_intents(bot: BotFolder, lazy: _LazyEncoder, fingerprint: str, progress: bool) -> str:
    texts, labels = [], []
    for spec in bot.intents.intents:
        texts.extend(spec.examples)
        labels.extend([spec.name] * len(spec.examples))
    # The same function `eval intents` calls; with fine-tuning on it also saves the tuned encoder.
    trained = train_intents(texts, labels, lazy.base(), bot.config.intents, bot.build_path, fingerprint, progress)
    classifier = trained.classifier
    classifier.save(bot.build_path / IntentClassifier.artifact)
    lazy.encoder = trained.encoder  # later artifacts encode with the encoder the classifier reads
    n_in = len([label for label in labels if label != OOS])
    return (
        f"intents: {len(classifier.labels)} classes from {n_in} examples "
        f"+ {len(labels) - n_in} out-of-scope, temperature {classifier.temperature:.2f}"
    )


def unmapped_markers(bot: BotFolder) -> list[str]:
    """One line per `{{Name}}` marker in the bot's replies that bot.yaml `placeholders` does not map
    (spellings that differ only in case or spaces are one), and one for the drafts `import` wrote."""
    mapped = {marker_key(name) for name in bot.config.placeholders}
    texts = [
        (n, f"template {n}", t)
        for n, spec in bot.templates.templates.items()
        for t in [spec.text, *spec.when_known.values()]
    ]
    texts += [(n, f"response of {n}", r.text) for n, specs in bot.responses.responses.items() for r in specs]
    texts += [(e.id, f"FAQ {e.id}", e.answer) for e in bot.faq.faqs]
    where: dict[str, list[str]] = {}
    spelled: dict[str, str] = {}
    drafts: list[str] = []
    for owner, place, text in texts:
        if text.strip() == DRAFT:
            drafts.append(owner)
            continue
        for marker in markers_in(text):
            name = marker_key(marker)
            if name not in mapped:
                spelled.setdefault(name, marker)
                where.setdefault(name, []).append(place)
    lines = [
        f"placeholder {{{{{spelled[name]}}}}} is not mapped in bot.yaml `placeholders`: {len(places)} replies holding "
        f"it are never sent ({', '.join(places[:3])}{', ...' if len(places) > 3 else ''})"
        for name, places in sorted(where.items())
    ]
    if drafts:
        lines.append(
            f"{len(drafts)} intents have only the draft reply `import` wrote ({', '.join(drafts[:5])}"
            f"{', ...' if len(drafts) > 5 else ''}): they fall back until their template in dialogs/templates.yaml "
            "is written"
        )
    return lines


def _heldout_check(bot: BotFolder, lazy: _LazyEncoder, intents_print: str) -> str:
    """How many of the imported messages kept out of training the classifier reads as their label.

    The line is kept in the build folder with what it was computed from, so a `train` that
    changed neither the intents nor the held-out file prints it again without encoding anything.
    """
    cache = bot.build_path / HELDOUT_CACHE
    made_from = hashlib.sha256(intents_print.encode() + (bot.path / HELDOUT).read_bytes()).hexdigest()
    try:
        kept = json.loads(cache.read_text())
        if kept.get("made_from") == made_from:
            return str(kept["line"])
    except (OSError, ValueError):
        pass
    line = _heldout_line(bot, lazy)
    cache.write_text(json.dumps({"made_from": made_from, "line": line}))
    return line


def _heldout_line(bot: BotFolder, lazy: _LazyEncoder) -> str:
    rows = [r for r in read_heldout(bot.path / HELDOUT) if r[1] in set(bot.intent_names(include_oos=True))]
    rows = sorted(rows, key=lambda r: hashlib.sha1(r[0].encode()).hexdigest())[:HELDOUT_CHECKED]
    if not rows:
        return f"held-out check: {HELDOUT} holds no message of a current intent"
    encoder = lazy.get()
    classifier = IntentClassifier.load(bot.build_path / IntentClassifier.artifact, bot.config, encoder)
    texts = [text for text, _ in rows]
    predicted = classifier.predict(encoder.encode(texts), texts=texts)
    right = sum(p.name == label for p, (_, label) in zip(predicted, rows, strict=True))
    return (
        f"held-out check: {right / len(rows):.3f} of {len(rows)} imported messages never trained on read as their label"
    )


def _build_docs(bot: BotFolder, lazy: _LazyEncoder, progress: bool) -> str:
    passages = read_passages(bot.path)
    # The intents' examples too: a page answers over a confident intent only when closer than its examples.
    examples = [(t, i.name) for i in bot.intents.intents if i.name != OOS for t in i.examples]
    index = DocsIndex.build(passages, lambda t: lazy.get().encode(t, progress=progress), bot.config.docs, examples)
    index.save(bot.build_path / DocsIndex.artifact)
    pages = len({p.page for p in passages})
    return f"docs: {len(passages)} passages ({len(index.sentences)} sentences) from {pages} pages"


def _build_responses(bot: BotFolder, lazy: _LazyEncoder, progress: bool) -> str:
    selector = ResponseSelector.build(bot.responses, lambda texts: lazy.get().encode(texts, progress=progress))
    selector.save(bot.build_path / ResponseSelector.artifact)
    return f"responses: {sum(len(r) for r in selector.replies.values())} replies of {len(selector.replies)} intents"


def _build_decoder(bot: BotFolder, pipeline: Agent, progress: bool) -> str:
    fit = train_decoder(bot, pipeline, progress)
    return (
        f"decoder: {fit.parameters:,} parameters ({fit.method}, {fit.device}), {fit.examples} examples, "
        f"{fit.epochs_run} epochs, validation loss {fit.best_val_loss:.3f}, {fit.seconds:.0f}s"
    )


def sync_faq_index(
    bot: BotFolder, store: Store, lazy: _LazyEncoder, force: bool = False, progress: bool = False
) -> int:
    """Make the saved FAQ index match the store's entries; encodes only changed entries."""
    folder = bot.build_path / FaqIndex.artifact
    entries = store.faq_entries()
    # Loading reads the fingerprint only; an index built with other weights loads empty at the new width.
    index = FaqIndex(lazy.dim, bot.config.faq, lazy.fingerprint) if force else FaqIndex.load(folder, bot.config, lazy)
    unchanged = {e.id for e in entries if index.digests.get(e.id) == entry_digest(e)}
    if not force and (folder / "meta.json").is_file() and len(unchanged) == len(entries) == len(index.vector_ids):
        return 0
    encoded = index.sync(entries, lambda texts: lazy.get().encode(texts, progress=progress))
    index.save(folder)
    return encoded


def load_trained(
    bot_dir: str | Path = ".",
    *,
    store_url: str | None = None,
    decoder: bool = True,
    encoder: Encoder | None = None,
    progress: bool = False,
) -> Agent:
    """`Agent.load`, after building whatever is stale (what `chat`, the TUI and replay do)."""
    bot = load_bot(bot_dir)
    store = Store(store_url or bot.store_url)
    try:
        if stale_for_loading(bot, decoder):
            build(bot, store=store, encoder=encoder, progress=progress)
        return Agent.assemble(bot, store, encoder=encoder, decoder=decoder)  # the agent closes the store
    except BaseException:
        store.close()
        raise


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
    def fingerprint(self) -> str:
        """The run-time encoder's fingerprint, known without loading it."""
        return self._runtime_fingerprint()

    @property
    def dim(self) -> int:
        return self.get().dim
