"""Help-centre pages (knowledge/docs/): Markdown, HTML or plain text, split into passages.

A passage is a section's text under its heading path ("Direct debits > Getting your
money back"), cut at paragraph ends into pieces of about `PASSAGE_WORDS` words so one
passage says one thing. Each passage keeps its page's file and title: the bot quotes
passages as written and names the page as the source (agent/steps/docs.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

DOCS_DIR = "knowledge/docs"
PAGE_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
PASSAGE_WORDS = 120
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Passage:
    page: str  # file name under knowledge/docs/
    title: str  # the page's title (its first heading, else the file name)
    headings: tuple[str, ...]  # the section's heading path under the title
    text: str

    @property
    def source(self) -> str:
        """ "Direct debits > Getting your money back": what the customer is shown as the source."""
        return " > ".join([self.title, *self.headings])

    def sentences(self) -> list[str]:
        """The passage's sentences (a list item is one), as written."""
        out = []
        for line in self.text.split("\n"):
            out += [s.strip() for s in _SENTENCE.split(line.strip()) if s.strip()]
        return out


def page_files(bot_dir: Path) -> list[Path]:
    folder = bot_dir / DOCS_DIR
    if not folder.is_dir():
        return []
    # Hidden files and folders are no pages: macOS's "._page.md" copies, an editor's or git's files.
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in PAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def docs_digest(bot_dir: Path) -> str:
    """Changes whenever a page is added, removed or edited ('' for a bot without pages)."""
    files = page_files(bot_dir)
    if not files:
        return ""
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(bot_dir / DOCS_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_passages(bot_dir: Path) -> list[Passage]:
    """Every passage of every page of the bot's help centre, in file order."""
    out: list[Passage] = []
    for path in page_files(bot_dir):
        name = str(path.relative_to(bot_dir / DOCS_DIR))
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix.lower() in (".html", ".htm"):
            text = html_to_markdown(text)
        out += split_page(name, text)
    return out


def split_page(name: str, text: str) -> list[Passage]:
    """The passages of one page given as Markdown (plain text is Markdown without headings)."""
    title = Path(name).stem.replace("-", " ").replace("_", " ").capitalize()
    path: list[str] = []
    sections: list[tuple[tuple[str, ...], list[str]]] = [((), [])]
    titled = False
    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            level, heading = len(match.group(1)), _inline(match.group(2))
            if level == 1 and not titled:
                title, titled = heading, True
                continue
            path = [*path[: max(0, level - 2)], heading]
            sections.append((tuple(path), []))
        else:
            sections[-1][1].append(line)
    passages = []
    for headings, lines in sections:
        for chunk in _chunks(_paragraphs(lines)):
            passages.append(Passage(name, title, headings, chunk))
    return passages


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated paragraphs; list items each on a line of their own paragraph."""
    out, current = [], []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if current:
                out.append("\n".join(current))
                current = []
            continue
        item = re.match(r"^(?:[-*+]|\d+[.)])\s+(.*)", stripped)
        current.append(_inline(item.group(1) if item else stripped))
    if current:
        out.append("\n".join(current))
    return out


def _chunks(paragraphs: list[str]) -> list[str]:
    out, current, words = [], [], 0
    for paragraph in paragraphs:
        n = len(paragraph.split())
        if current and words + n > PASSAGE_WORDS:
            out.append("\n".join(current))
            current, words = [], 0
        current.append(paragraph)
        words += n
    if current:
        out.append("\n".join(current))
    return out


def _inline(text: str) -> str:
    """Markdown emphasis, code and links reduced to their words."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(\*\*|__|\*|`)", "", text).strip()


_SKIPPED = ("script", "style", "title")


class _HtmlText(HTMLParser):
    """Headings as Markdown headings, paragraphs, list items and table rows as lines (a row's cells apart);
    scripts, styles and the head's <title> (not the page's text; its first heading is its title) dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIPPED:
            self.skip += 1
        elif tag in ("td", "th"):
            self.current.append(" ")  # cells of a row are words apart, not run together
        elif tag in ("p", "li", "br", "div", "tr") or re.fullmatch(r"h[1-6]", tag):
            self._flush()
            if re.fullmatch(r"h[1-6]", tag):
                self.current.append("#" * int(tag[1]) + " ")
            elif tag == "li":
                self.current.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
        elif tag in ("p", "li", "div", "tr", "ul", "ol") or re.fullmatch(r"h[1-6]", tag):
            self._flush()
            if tag in ("p", "ul", "ol") or re.fullmatch(r"h[1-6]", tag):
                self.lines.append("")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def _flush(self) -> None:
        line = " ".join("".join(self.current).split())
        if line and not re.fullmatch(r"[-#]+", line):  # an empty heading or list item says nothing
            self.lines.append(line)
        self.current = []


def html_to_markdown(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)
