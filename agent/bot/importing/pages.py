"""A folder of help-centre pages (Markdown, HTML, plain text) -> the bot's knowledge/docs/.

Each page is copied under its path in the folder; a page already there with the same
bytes is unchanged (importing twice adds nothing), one with other bytes is updated.
Other files are listed as skipped. `train` splits the pages into passages and
indexes them (agent/bot/pages.py, agent/steps/docs.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agent.bot.pages import DOCS_DIR, PAGE_SUFFIXES, html_to_markdown, split_page
from agent.exceptions import DatasetError


@dataclass
class PagesImport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    passages: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (0, "file: why"): pages have no lines
    markers: dict[str, int] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # relative path in the bot -> new bytes


def plan_pages(folder: Path, bot_dir: Path) -> PagesImport:
    out = PagesImport()
    # Hidden files and folders (.git/, .DS_Store, an editor's settings) are no pages, nor worth listing.
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not files:
        raise DatasetError(f"{folder} holds no files; give a folder of .md, .html or .txt help-centre pages.")
    for path in files:
        rel = path.relative_to(folder)
        if path.suffix.lower() not in PAGE_SUFFIXES:
            out.skipped.append((0, f"{rel}: not a page ({', '.join(PAGE_SUFFIXES)})"))
            continue
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.skipped.append((0, f"{rel}: not UTF-8 text (byte {exc.start})"))
            continue
        passages = split_page(str(rel), html_to_markdown(text) if path.suffix.lower() in (".html", ".htm") else text)
        if not passages:
            out.skipped.append((0, f"{rel}: no text"))
            continue
        target = bot_dir / DOCS_DIR / rel
        if target.is_file() and target.read_bytes() == raw:
            out.unchanged += 1
            continue
        (out.updated if target.is_file() else out.added).append(str(rel))
        out.files[f"{DOCS_DIR}/{rel}"] = raw
        out.passages += len(passages)
    return out
