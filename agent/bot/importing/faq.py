"""`question,answer[,id][,alternatives]` rows -> FAQ entries of knowledge/faq.yaml.

An entry whose question (normalised) or id the bot already has is a duplicate and
adds nothing, so importing a file twice changes nothing. Ids are made from the
question when the file has none; alternatives are separated by `|`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from agent.bot.importing import yamlfiles
from agent.bot.importing.messages import key, markers_in
from agent.bot.importing.tables import Table
from agent.bot.schemas import FAQ_ID
from agent.bot.text import has_words


@dataclass
class FaqImport:
    added: int = 0
    duplicates: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    markers: dict[str, int] = field(default_factory=dict)
    files: dict[str, CommentedMap | str] = field(default_factory=dict)


def faq_id(question: str, taken: set[str]) -> str:
    """A free FAQ id from the question's words: "How do I reset my PIN?" -> "how-do-i-reset-my-pin"."""
    base = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")[:60].strip("-") or "faq"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def plan_faq(table: Table, bot_dir: Path) -> FaqImport:
    out = FaqImport(skipped=list(table.problems))
    doc = yamlfiles.load(bot_dir / "knowledge/faq.yaml", "faqs", [])
    ids = {str(entry["id"]) for entry in doc["faqs"]}
    questions = {key(str(entry["question"])) for entry in doc["faqs"]}
    for row in table.rows:
        question, answer, given = row.get("question"), row.get("answer"), row.get("id")
        if not question or not answer:
            out.skipped.append((row.line, f"no `{'question' if not question else 'answer'}`"))
            continue
        if given and not re.match(FAQ_ID, given):
            out.skipped.append((row.line, f"id {given!r} is not lowercase letters, digits and dashes"))
            continue
        alternatives = [a.strip() for a in row.get("alternatives").split("|") if a.strip()]
        wordless = next((text for text in [question, *alternatives] if not has_words(text)), None)
        if wordless is not None:  # faq.yaml refuses it: it would match every message of emoji (agent/bot/text.py)
            what = "question" if wordless == question else "alternative"
            out.skipped.append((row.line, f"{what} {wordless!r} has no letter or digit"))
            continue
        if key(question) in questions or (given and given in ids):
            out.duplicates += 1
            continue
        entry = CommentedMap(id=given or faq_id(question, ids), question=question)
        if alternatives:
            entry["alternatives"] = CommentedSeq(alternatives)
        entry["answer"] = answer
        doc["faqs"].append(entry)
        ids.add(str(entry["id"]))
        questions.add(key(question))
        out.added += 1
        for marker in markers_in(answer):
            out.markers[marker] = out.markers.get(marker, 0) + 1
    if out.added:
        out.files["knowledge/faq.yaml"] = doc
    return out
