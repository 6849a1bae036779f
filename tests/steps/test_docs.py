"""Help-centre pages answer what no FAQ entry or confident intent does, quoted as written, and nothing else.

The tiny bot (a bank: card fees, lost cards) gets pages of a shop's help centre written
here: questions only a page answers are answered from it, off-topic questions keep the
fallback, the tiny bot's own intents keep their templates, and the index is built,
saved, loaded and rebuilt as its pages change.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from rich.console import Console
from tinybot import write_tiny_bot

from agent import load_trained
from agent.bot.pages import DOCS_DIR, read_passages
from agent.config import DocsConfig
from agent.exceptions import BuildError
from agent.pipeline.artifacts import read_manifest
from agent.pipeline.assemble import load_bot
from agent.pipeline.dialog import Agent
from agent.steps.decoder.guard import claims
from agent.steps.docs import META_FILE, VECTORS_FILE, DocsIndex
from agent.steps.encoder import Encoder
from agent.training.build import BuildReport, build
from agent.types import Reply, SessionState, Turn

SHIPPING = """# Shipping

We send every order from our warehouse in Leipzig.

## Delivery costs

Standard delivery costs EUR 4.95 and takes three to five working days. Express delivery costs EUR 9.95 and \
arrives the next working day. Orders over EUR 50 ship free.

## Countries we ship to

We ship to every country of the European Union. Parcels to Norway take up to eight working days.
"""
RETURNS = """<html><head><title>Shop | Returns</title></head><body>
<h1>Returns and refunds</h1>
<h2>Sending an item back</h2>
<p>You can return any item within 30 days of delivery. Print the free return label from your account and drop the
parcel at any post office.</p>
<h2>Refunds</h2>
<p>Your refund reaches your account within 5 working days after the item arrives at our warehouse. Refunds go back
to the card you paid with.</p>
</body></html>"""
# On the tiny bot's own topic: its intents must keep their templates all the same.
CARDS = """# Cards

## Lost or stolen cards

If your card is lost or stolen, freeze it in the app straight away. A replacement card costs EUR 5.
"""
GIFTS = """Gift wrapping
Gift wrapping costs EUR 3 per item. Choose it at checkout and add a message of up to 200 characters.
"""
PAGES = {"shipping.md": SHIPPING, "returns.html": RETURNS, "cards.md": CARDS, "extras/gift-wrapping.txt": GIFTS}
SOURCE_LINE = re.compile(r"\n\n\(From our help centre: (.+)\)$")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
OFF_TOPIC = ["book me a flight", "what is the capital of France", "recipe for pancakes"]


def write_pages(folder: Path, pages: dict[str, str] = PAGES) -> None:
    for rel, text in pages.items():
        path = folder / DOCS_DIR / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def train(folder: Path, encoder: Encoder) -> tuple[BuildReport, str]:
    out = io.StringIO()
    report = build(load_bot(folder), encoder=encoder, progress=False, console=Console(file=out, width=1000))
    return report, out.getvalue()


def open_agent(folder: Path, encoder: Encoder, tmp_path: Path) -> Agent:
    return load_trained(folder, encoder=encoder, store_url=f"sqlite:///{tmp_path / 'x.db'}")


@dataclass(frozen=True)
class Trained:
    folder: Path
    report: BuildReport
    printed: str  # what `train` printed


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Trained:
    """The tiny bot as it is, without pages, trained once for the module."""
    folder = write_tiny_bot(tmp_path_factory.mktemp("plain") / "bot")
    return Trained(folder, *train(folder, encoder))


@pytest.fixture(scope="module")
def pages_added(plain: Trained, tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> Trained:
    """A copy of the trained tiny bot with the pages added, trained again (tests that change it work on copies)."""
    folder = copy_bot(plain.folder, tmp_path_factory.mktemp("docs"))
    write_pages(folder)
    return Trained(folder, *train(folder, encoder))


@pytest.fixture(scope="module")
def shop(pages_added: Trained) -> Path:
    return pages_added.folder


@pytest.fixture(scope="module")
def agent(shop: Path, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    loaded = open_agent(shop, encoder, tmp_path_factory.mktemp("db"))
    yield loaded
    loaded.close()


def copy_bot(folder: Path, tmp_path: Path) -> Path:
    """A copy of a trained bot, build and FAQ store included."""
    copy = tmp_path / "bot"
    shutil.copytree(folder, copy)
    return copy


def test_adding_pages_builds_the_docs_only(pages_added: Trained, plain: Trained) -> None:
    assert pages_added.report.built == ["docs"] and set(pages_added.report.skipped) == {"graph", "intents", "faq"}
    assert "docs: 7 passages (15 sentences) from 4 pages" in pages_added.printed
    before, after = read_manifest(plain.folder / "build"), read_manifest(pages_added.folder / "build")
    assert set(after) - set(before) == {"docs"} and {k: after[k] for k in before} == before
    assert {p.name for p in (pages_added.folder / "build" / "docs").iterdir()} == {META_FILE, VECTORS_FILE}


def quoted_part(reply: Reply) -> tuple[str, str]:
    """The quoted sentences and the source the reply names."""
    match = SOURCE_LINE.search(reply.text)
    assert match is not None, reply.text
    return reply.text[: match.start()], match.group(1)


def assert_quoted_from(reply: Reply, agent: Agent, page: str, source: str) -> str:
    """The reply is the best passage (whole, or its closest sentences), verbatim and in its order, then the
    page's source line."""
    assert reply.source == "docs", (reply.source, reply.reason)
    assert reply.passages, "the trace lists the passages found"
    best = reply.passages[0]
    assert (best.page, best.source) == (page, source)
    assert page in reply.reason and source in reply.reason
    quoted, named = quoted_part(reply)
    assert named == source
    passage = next(p for p in read_passages(agent.bot.path) if (p.page, p.source) == (page, source))
    assert best.text == passage.text
    sentences = passage.sentences()
    chosen = [s for s in sentences if s in quoted]
    config = agent.step(DocsIndex).config  # the step's own settings (a test may have changed them)
    if len(passage.text.split()) <= config.whole_passage_words:
        assert chosen == sentences  # a short passage is quoted whole
    else:
        assert 1 <= len(chosen) <= config.sentences
    # Nothing but those sentences, in the page's order, joined by a space (or a line after a piece without a stop).
    rebuilt = "".join(
        (("\n" if not chosen[k - 1].endswith((".", "!", "?", ":")) else " ") if k else "") + s
        for k, s in enumerate(chosen)
    )
    assert quoted == rebuilt
    # Every value the reply states is one the passage states.
    assert set(NUMBER.findall(quoted)) <= set(NUMBER.findall(passage.text))
    assert claims(quoted) <= claims(passage.text)
    return quoted


def test_a_question_only_a_page_answers_is_quoted_from_it(agent: Agent) -> None:
    reply = agent.respond("express", "how much is express delivery?")
    quoted = assert_quoted_from(reply, agent, "shipping.md", "Shipping > Delivery costs")
    assert "Express delivery costs EUR 9.95 and arrives the next working day." in quoted
    assert reply.text.endswith("\n\n(From our help centre: Shipping > Delivery costs)")
    # The hits, best first, with their closeness in meaning (the ranking adds shared words to it); the best
    # is the passage quoted.
    scores = [hit.score for hit in reply.passages]
    assert len(reply.passages) == agent.config.docs.top_k
    assert all(-1 <= s <= 1 for s in scores) and scores[0] > max(scores[1:])
    assert len({(hit.page, hit.text) for hit in reply.passages}) == len(reply.passages)


def test_a_long_passage_is_quoted_by_its_sentences_closest_to_the_question(agent: Agent) -> None:
    docs = agent.step(DocsIndex)
    base = docs.config
    try:
        docs.config = base.model_copy(update={"whole_passage_words": 0, "sentences": 1})
        reply = agent.respond("express-long", "how much is express delivery?")
        quoted = assert_quoted_from(reply, agent, "shipping.md", "Shipping > Delivery costs")
    finally:
        docs.config = base
    assert quoted == "Express delivery costs EUR 9.95 and arrives the next working day."


@pytest.mark.parametrize(
    ("message", "page", "source", "phrase"),
    [
        ("how long does my refund take?", "returns.html", "Returns and refunds > Refunds", "within 5 working days"),
        ("do you ship to Norway", "shipping.md", "Shipping > Countries we ship to", "Norway"),
        ("can I get my purchase gift wrapped", "extras/gift-wrapping.txt", "Gift wrapping", "EUR 3 per item"),
    ],
)
def test_each_page_answers_its_own_questions(agent: Agent, message: str, page: str, source: str, phrase: str) -> None:
    reply = agent.respond(f"q-{page}", message)
    quoted = assert_quoted_from(reply, agent, page, source)
    assert phrase in quoted
    assert "Shop | Returns" not in reply.text  # an HTML page's <title> is no text of it


def test_questions_the_pages_do_not_answer_get_the_fallback(agent: Agent) -> None:
    docs = agent.step(DocsIndex)
    for i, message in enumerate(OFF_TOPIC):
        reply = agent.respond(f"off-{i}", message)
        assert reply.source == "fallback", (message, reply.reason)
        assert reply.text == agent.config.persona.fallback and "help centre" not in reply.text
        assert reply.passages, "the passages are found (and shown) all the same"
        # ... they are just not close enough to quote.
        turn = _turn(agent, message)
        docs([turn])
        assert docs.strength(turn.doc_hits[0]) < agent.config.docs.answer_threshold
        assert docs.answer(turn) is None


def test_the_intents_keep_their_own_replies(agent: Agent) -> None:
    lost = agent.respond("lost", "I lost my card")
    assert (lost.source, lost.intent) == ("template", "lost_card")
    assert lost.text.startswith("Sorry to hear that.") and "+1 555 0100" in lost.text
    # The cards page is the closest passage, and close enough to quote on its own: only the intent's
    # examples, closer still, keep the template.
    assert lost.passages[0].page == "cards.md"
    docs = agent.step(DocsIndex)
    turn = _turn(agent, "I lost my card")
    docs([turn])
    assert docs.answer(turn) is not None
    assert docs.answer(turn, confident_intent="lost_card") is None
    fee = agent.respond("fee", "how much does the plus card cost")
    assert (fee.source, fee.intent, fee.text) == ("template", "card_fee", "The Plus card costs EUR 4.99 a month.")
    faq = agent.respond("faq", "When is support open?")
    assert (faq.source, faq.text) == ("faq", "Support is open 24/7 in the app.")


def test_a_page_answers_over_an_intent_only_when_closer_than_its_examples(agent: Agent) -> None:
    docs = agent.step(DocsIndex)
    turn = _turn(agent, "how much is express delivery?")
    docs([turn])
    strength = docs.strength(turn.doc_hits[0])
    typical = docs.typicality("card_fee", turn.embedding)
    assert typical is not None and strength >= typical + docs.config.over_intent_margin
    assert docs.answer(turn, confident_intent="card_fee") is not None
    assert docs.typicality("no_such_intent", turn.embedding) is None
    assert docs.answer(turn, confident_intent="no_such_intent") is None  # no examples to weigh: the intent keeps it
    assert docs.typicality("card_fee", _turn(agent, "is the card free").embedding) == pytest.approx(1.0, abs=1e-4)
    assert "oos" not in docs.example_labels  # out-of-scope examples are nothing to weigh against
    # A margin no page can clear leaves the confident intent its reply.
    docs_config = docs.config
    try:
        docs.config = docs_config.model_copy(update={"over_intent_margin": 2.5})
        assert docs.answer(turn, confident_intent="card_fee") is None
        assert docs.answer(turn) is not None
    finally:
        docs.config = docs_config


def test_a_high_threshold_leaves_the_fallback(shop: Path, encoder: Encoder, tmp_path: Path) -> None:
    folder = copy_bot(shop, tmp_path)
    config = yaml.safe_load((folder / "bot.yaml").read_text())
    config["docs"] = {"answer_threshold": 0.99}
    (folder / "bot.yaml").write_text(yaml.safe_dump(config))
    strict = open_agent(folder, encoder, tmp_path)
    try:
        assert strict.config.docs.answer_threshold == 0.99
        reply = strict.respond("refund", "how long does my refund take?")
        assert reply.source == "fallback" and reply.text == strict.config.persona.fallback
        assert reply.passages[0].page == "returns.html"  # found, not quoted
    finally:
        strict.close()


def test_pages_switched_off_are_not_searched(shop: Path, encoder: Encoder, tmp_path: Path) -> None:
    folder = copy_bot(shop, tmp_path)
    (folder / "bot.yaml").write_text((folder / "bot.yaml").read_text() + "docs:\n  enabled: false\n")
    off = open_agent(folder, encoder, tmp_path)
    try:
        reply = off.respond("refund", "how long does my refund take?")
        assert reply.source == "fallback" and reply.passages == []
    finally:
        off.close()


def _turn(agent: Agent, text: str) -> Turn:
    return Turn("probe", text, SessionState(), embedding=agent.step(Encoder).encode([text])[0])


def test_shared_words_reorder_the_passages_but_not_their_scores(agent: Agent) -> None:
    docs = agent.step(DocsIndex)
    message = "express delivery to norway"
    words_best = docs.passages[int(np.argmax(docs.lexical.scores(message)))]
    assert "Express delivery" in words_best.text  # "express" and "delivery" twice; Norway is on another passage
    hits = {}
    base = docs.config
    try:
        for weight in (0.0, 1.0):
            docs.config = base.model_copy(update={"lexical_weight": weight, "top_k": 7})
            turn = _turn(agent, message)
            docs([turn])
            hits[weight] = turn.doc_hits
    finally:
        docs.config = base
    # Meaning alone: best score first. Words weighing as much as meaning: the best word match first.
    assert [h.score for h in hits[0.0]] == sorted((h.score for h in hits[0.0]), reverse=True)
    assert "Norway" in hits[0.0][0].text and hits[1.0][0].text == words_best.text
    # A hit's score is its closeness in meaning (what the thresholds compare), whatever the words added.
    assert {h.text: h.score for h in hits[0.0]} == {h.text: h.score for h in hits[1.0]}


def test_the_index_survives_save_and_load(shop: Path, encoder: Encoder, tmp_path: Path) -> None:
    bot = load_bot(shop)
    passages = read_passages(shop)
    examples = [("how much does the card cost", "card_fee"), ("I lost my card", "lost_card")]
    built = DocsIndex.build(passages, encoder.encode, DocsConfig(), examples)
    assert len(built.passages) == 7 and built.vectors.shape == (7, encoder.dim)
    assert len(built.sentences) == built.sentence_vectors.shape[0] == 15
    assert np.allclose(np.linalg.norm(built.vectors, axis=1), 1.0, atol=1e-4)
    built.save(tmp_path / "docs")
    assert {p.name for p in (tmp_path / "docs").iterdir()} == {META_FILE, VECTORS_FILE}
    loaded = DocsIndex.load(tmp_path / "docs", bot.config, encoder)
    assert loaded.passages == built.passages and loaded.sentences == built.sentences
    assert np.array_equal(loaded.vectors, built.vectors)
    assert np.array_equal(loaded.sentence_vectors, built.sentence_vectors)
    assert np.array_equal(loaded.examples, built.examples) and loaded.example_labels == ["card_fee", "lost_card"]
    for text in ["how much is express delivery?", "how long does my refund take?", "I lost my card"]:
        before, after = (Turn("s", text, SessionState(), embedding=encoder.encode([text])[0]) for _ in range(2))
        built([before])
        loaded([after])
        assert after.doc_hits == before.doc_hits and after.doc_hits
        assert loaded.answer(after) == built.answer(before)
        assert loaded.answer(after, "lost_card") == built.answer(before, "lost_card")
        assert loaded.typicality("lost_card", after.embedding) == built.typicality("lost_card", before.embedding)
    # What `train` wrote loads the same way.
    trained = DocsIndex.load(shop / "build" / "docs", bot.config, encoder)
    assert trained.passages == passages
    # A damaged index says to rebuild it.
    (tmp_path / "docs" / VECTORS_FILE).write_bytes(b"not numpy")
    with pytest.raises(BuildError, match="python -m agent train"):
        DocsIndex.load(tmp_path / "docs", bot.config, encoder)


def test_an_index_without_passages_finds_nothing(shop: Path, encoder: Encoder, tmp_path: Path) -> None:
    empty = DocsIndex.build([], encoder.encode, DocsConfig())
    turn = Turn("s", "how long does my refund take?", SessionState(), embedding=encoder.encode(["refund"])[0])
    empty([turn])
    assert turn.doc_hits == [] and empty.answer(turn) is None
    missing = DocsIndex.load(tmp_path / "nothing-here", load_bot(shop).config, encoder)
    missing([turn])
    assert missing.passages == [] and turn.doc_hits == []


def test_a_bot_without_pages_builds_no_docs_and_loads(plain: Trained, encoder: Encoder, tmp_path: Path) -> None:
    report, printed, folder = plain.report, plain.printed, plain.folder
    assert "docs" not in report.built + report.skipped and "docs:" not in printed
    assert "intents" in report.built
    assert "docs" not in read_manifest(folder / "build") and not (folder / "build" / "docs").exists()
    loaded = open_agent(folder, encoder, tmp_path)
    try:
        reply = loaded.respond("refund", "how long does my refund take?")
        assert reply.source == "fallback" and reply.passages == []
        assert loaded.step(DocsIndex).passages == []
        assert loaded.respond("lost", "I lost my card").source == "template"
    finally:
        loaded.close()


def test_editing_a_page_rebuilds_the_docs_only(shop: Path, encoder: Encoder, tmp_path: Path) -> None:
    folder = copy_bot(shop, tmp_path)
    report, _ = train(folder, encoder)
    assert report.built == [] and "docs" in report.skipped  # the copy is up to date
    manifest = read_manifest(folder / "build")
    page = folder / DOCS_DIR / "shipping.md"
    page.write_text(SHIPPING.replace("EUR 9.95", "EUR 11.95"), encoding="utf-8")
    report, printed = train(folder, encoder)
    assert report.built == ["docs"] and set(report.skipped) == {"graph", "intents", "faq"}
    assert "docs: 7 passages (15 sentences) from 4 pages" in printed
    after = read_manifest(folder / "build")
    assert after["docs"] != manifest["docs"]
    assert {k: v for k, v in after.items() if k != "docs"} == {k: v for k, v in manifest.items() if k != "docs"}
    edited = open_agent(folder, encoder, tmp_path)
    try:
        reply = edited.respond("express", "how much is express delivery?")
        quoted = assert_quoted_from(reply, edited, "shipping.md", "Shipping > Delivery costs")
        assert "EUR 11.95" in quoted and "EUR 9.95" not in reply.text
    finally:
        edited.close()
    # A new page is indexed too; nothing else is rebuilt.
    write_pages(folder, {"extras/vouchers.md": "# Vouchers\n\nA voucher is valid for three years."})
    report, printed = train(folder, encoder)
    assert report.built == ["docs"] and "docs: 8 passages (16 sentences) from 5 pages" in printed


def test_removing_every_page_removes_the_docs(shop: Path, encoder: Encoder, tmp_path: Path) -> None:
    folder = copy_bot(shop, tmp_path)
    shutil.rmtree(folder / DOCS_DIR)
    train(folder, encoder)
    assert "docs" not in read_manifest(folder / "build") and not (folder / "build" / "docs").exists()
    bare = open_agent(folder, encoder, tmp_path)
    try:
        reply = bare.respond("gone", "how much is express delivery?")
        assert reply.source != "docs" and reply.passages == []  # the deleted pages are not quoted
    finally:
        bare.close()
