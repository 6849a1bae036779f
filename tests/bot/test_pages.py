"""Help-centre pages -> passages: Markdown, HTML and plain text, heading paths, chunks, and the pages' digest."""

from __future__ import annotations

from pathlib import Path

from agent.bot.pages import (
    DOCS_DIR,
    PASSAGE_WORDS,
    Passage,
    docs_digest,
    html_to_markdown,
    read_passages,
    split_page,
)

SHIPPING = """# Shipping and delivery

We send every order from our warehouse in **Leipzig**.

## Delivery costs

Standard delivery costs EUR 4.95. Express delivery costs EUR 9.95!

- Orders over EUR 50 ship *free*
- Islands cost `EUR 3` extra
1. Pick a speed at [checkout](https://shop.example/checkout)

### Abroad

Parcels abroad take 5 to 8 working days. Is your country missing? Ask us.

## Delivery times ##

Most parcels arrive in two days.
"""


def test_markdown_title_heading_paths_and_list_items() -> None:
    passages = split_page("shipping.md", SHIPPING)
    assert [(p.title, p.headings) for p in passages] == [
        ("Shipping and delivery", ()),
        ("Shipping and delivery", ("Delivery costs",)),
        ("Shipping and delivery", ("Delivery costs", "Abroad")),
        ("Shipping and delivery", ("Delivery times",)),  # closing #s are not part of the heading
    ]
    assert {p.page for p in passages} == {"shipping.md"}
    intro, costs, abroad, times = passages
    assert intro.text == "We send every order from our warehouse in Leipzig."
    # List markers, emphasis, code and links are reduced to their words; each item is a line.
    assert costs.text == (
        "Standard delivery costs EUR 4.95. Express delivery costs EUR 9.95!\n"
        "Orders over EUR 50 ship free\n"
        "Islands cost EUR 3 extra\n"
        "Pick a speed at checkout"
    )
    assert abroad.text == "Parcels abroad take 5 to 8 working days. Is your country missing? Ask us."
    assert times.text == "Most parcels arrive in two days."
    # The title line itself is no passage, and no heading is left in any text.
    assert not any("#" in p.text or "Shipping and delivery" in p.text for p in passages)


def test_a_heading_resets_the_path_below_its_level() -> None:
    page = "# T\n## A\na.\n### B\nb.\n#### C\nc.\n### D\nd.\n## E\ne.\n# Second top\nf.\n"
    assert [(p.headings, p.text) for p in split_page("t.md", page)] == [
        (("A",), "a."),
        (("A", "B"), "b."),
        (("A", "B", "C"), "c."),
        (("A", "D"), "d."),
        (("E",), "e."),
        (("Second top",), "f."),  # a second `#` heading is a section of the page, not its title
    ]


def test_a_page_without_a_title_is_named_after_its_file() -> None:
    (passage,) = split_page("help/gift_wrapping-options.md", "## Prices\nWrapping costs EUR 3.")
    assert passage.title == "Gift wrapping options" and passage.headings == ("Prices",)
    assert passage.source == "Gift wrapping options > Prices"


def test_long_sections_are_cut_at_paragraph_ends() -> None:
    paragraphs = [" ".join(f"p{i}w{j}" for j in range(49)) + " end." for i in range(5)]  # 50 words each
    passages = split_page("long.md", "# Long\n## Section\n" + "\n\n".join(paragraphs))
    assert [len(p.text.split()) for p in passages] == [100, 100, 50]
    assert all(p.headings == ("Section",) for p in passages)
    # No paragraph is split, none lost, and the order is kept.
    assert [p.text.split("\n") for p in passages] == [paragraphs[0:2], paragraphs[2:4], paragraphs[4:]]
    assert all(len(p.text.split()) <= PASSAGE_WORDS for p in passages)
    # A single paragraph longer than a passage stays whole.
    huge = " ".join(["word"] * (PASSAGE_WORDS + 30))
    (only,) = split_page("huge.md", huge)
    assert only.text == huge


def test_sections_without_text_make_no_passage() -> None:
    assert split_page("empty.md", "# Title\n\n## Nothing here\n\n") == []
    assert [p.headings for p in split_page("x.md", "# T\n## Empty\n## Full\nText.")] == [("Full",)]


def test_html_becomes_markdown() -> None:
    html = """<!doctype html><html><head><title>Shop | Returns</title>
    <style>p { color: red }</style><script>var tracking = "Returns cost EUR 99.";</script></head>
    <body><h1>Returns</h1>
    <p>You can return any item within <b>30 days</b>
       of delivery.</p>
    <h2>Sending it back</h2>
    <ul><li>Print the <a href="/label">free label</a>.</li><li>Drop the parcel at a post office.</li></ul>
    <h3>Prices</h3>
    <table><tr><th>Item</th><th>Cost</th></tr><tr><td>Parcel</td><td>EUR 0</td></tr></table>
    <div>Questions &amp; answers<br>are below.</div>
    <script>alert("hidden")</script>
    </body></html>"""
    markdown = html_to_markdown(html)
    lines = [line for line in markdown.splitlines() if line]
    assert lines == [
        "# Returns",
        "You can return any item within 30 days of delivery.",  # whitespace inside a paragraph collapsed
        "## Sending it back",
        "- Print the free label.",
        "- Drop the parcel at a post office.",
        "### Prices",
        "Item Cost",  # a table row is a line, its cells words apart
        "Parcel EUR 0",
        "Questions & answers",
        "are below.",
    ]
    assert "tracking" not in markdown and "hidden" not in markdown and "color" not in markdown
    assert "Shop | Returns" not in markdown
    passages = split_page("returns.html", markdown)
    assert [(p.title, p.headings) for p in passages] == [
        ("Returns", ()),
        ("Returns", ("Sending it back",)),
        ("Returns", ("Sending it back", "Prices")),
    ]
    assert passages[1].text == "Print the free label.\nDrop the parcel at a post office."


def test_empty_html_elements_say_nothing() -> None:
    assert [line for line in html_to_markdown("<h2> </h2><ul><li></li></ul><p>Text.</p>").splitlines() if line] == [
        "Text."
    ]


def test_plain_text_is_one_section_under_the_file_name() -> None:
    text = "Opening hours\nWe are open from 9 to 5. Call us any time!\n\nOn public holidays we are closed.\n"
    (passage,) = split_page("opening-hours.txt", text)
    assert passage.title == "Opening hours" and passage.headings == () and passage.source == "Opening hours"
    assert (
        passage.text == "Opening hours\nWe are open from 9 to 5. Call us any time!\nOn public holidays we are closed."
    )


def test_sentences_and_source() -> None:
    passage = Passage(
        "shipping.md",
        "Shipping",
        ("Delivery costs", "Express"),
        "Express costs EUR 9.95. It arrives tomorrow! Why? Because we hurry.\n"
        "Free over EUR 50\n  \nA 3.5 kg limit applies.",
    )
    assert passage.source == "Shipping > Delivery costs > Express"
    assert Passage("a.md", "A", (), "x").source == "A"
    # Sentence ends split a line; a list item (a line without a full stop) is one; decimals are not ends.
    assert passage.sentences() == [
        "Express costs EUR 9.95.",
        "It arrives tomorrow!",
        "Why?",
        "Because we hurry.",
        "Free over EUR 50",
        "A 3.5 kg limit applies.",
    ]
    # Every sentence is as written in the text.
    assert all(s in passage.text for s in passage.sentences())


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / DOCS_DIR / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_read_passages_over_a_folder(tmp_path: Path) -> None:
    assert read_passages(tmp_path) == []  # no knowledge/docs/ at all
    _write(tmp_path, "shipping.md", SHIPPING)
    _write(tmp_path, "account/close.html", "<h1>Closing your account</h1><p>Close it under Settings.</p>")
    _write(tmp_path, "account/deep/limits.TXT", "Daily limit\nYou can send EUR 1000 a day.")
    _write(tmp_path, "notes.json", '{"text": "# Not a page"}')
    _write(tmp_path, "logo.png", "not an image either")
    _write(tmp_path, "._shipping.md", "Mac resource fork junk.")  # hidden files and folders are no pages
    _write(tmp_path, ".drafts/unpublished.md", "# Draft\nNot live yet.")
    passages = read_passages(tmp_path)
    assert sorted({p.page for p in passages}) == ["account/close.html", "account/deep/limits.TXT", "shipping.md"]
    # In file order: a folder's files before the next top-level file, each page's passages in page order.
    assert [p.page for p in passages] == [
        "account/close.html",
        "account/deep/limits.TXT",
        *["shipping.md"] * 4,
    ]
    close, limits = passages[:2]
    assert (close.title, close.headings, close.text) == ("Closing your account", (), "Close it under Settings.")
    assert (limits.title, limits.text) == ("Limits", "Daily limit\nYou can send EUR 1000 a day.")
    assert passages[2:] == split_page("shipping.md", SHIPPING)
    assert not any(word in p.text for p in passages for word in ("Not a page", "junk", "Not live"))


def test_docs_digest_follows_the_pages(tmp_path: Path) -> None:
    assert docs_digest(tmp_path) == ""
    (tmp_path / DOCS_DIR).mkdir(parents=True)
    _write(tmp_path, "readme.json", "{}")
    assert docs_digest(tmp_path) == ""  # a folder with no pages is no help centre
    page = _write(tmp_path, "shipping.md", SHIPPING)
    first = docs_digest(tmp_path)
    assert len(first) == 64 and docs_digest(tmp_path) == first
    _write(tmp_path, "readme.json", '{"changed": true}')
    assert docs_digest(tmp_path) == first  # other files do not count
    _write(tmp_path, ".drafts/next.md", "# Next\nSoon.")
    assert docs_digest(tmp_path) == first  # nor hidden ones
    page.write_text(SHIPPING.replace("EUR 9.95", "EUR 10.95"), encoding="utf-8")
    edited = docs_digest(tmp_path)
    assert edited != first
    other = _write(tmp_path, "returns.md", "# Returns\nWithin 30 days.")
    added = docs_digest(tmp_path)
    assert added not in (first, edited)
    # The same bytes under another name are another help centre.
    other.rename(other.with_name("refunds.md"))
    assert docs_digest(tmp_path) not in (first, edited, added)
    (tmp_path / DOCS_DIR / "refunds.md").unlink()
    assert docs_digest(tmp_path) == edited
    page.unlink()
    assert docs_digest(tmp_path) == ""
