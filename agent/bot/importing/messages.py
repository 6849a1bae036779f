"""Labelled customer messages (`text,label[,response]`) -> intent examples, a held-out set, responses.

Each intent keeps at most `cap` examples in knowledge/intents.yaml (which ones does not
depend on the file's order: a stable hash picks them); the rest go to
knowledge/heldout.csv, which `train` reads back as a check of the classifier on
messages it never saw. The agents' replies become responses (dialogs/responses.yaml):
identical replies are one, and an intent with more than `per_intent` different replies
keeps that many representatives (k-means over their words, the reply nearest each
centre), each answering the messages of the replies grouped with it, so one intent's
different questions keep different replies (agent/steps/responses.py chooses).
Everything is keyed on normalised text, so importing the same rows twice adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from agent.bot import small_talk
from agent.bot.importing import yamlfiles
from agent.bot.importing.tables import Table
from agent.bot.schemas import MARKER, OOS

HELDOUT = "knowledge/heldout.csv"
DRAFT = "{{Draft reply}}"  # a new intent without replies: never sent until its template is written
OUT_OF_SCOPE_LABELS = {"oos", "out_of_scope", "outofscope"}  # after intent_name's clean-up


@dataclass
class MessagesImport:
    """What importing one file of labelled messages adds (computed first, written only when asked)."""

    new_intents: list[str] = field(default_factory=list)
    examples: int = 0
    held_out: int = 0
    duplicates: int = 0
    replies: int = 0  # new responses
    answers: int = 0  # messages added to responses' `answers`
    drafts: list[str] = field(default_factory=list)  # intents given a draft template
    handoffs: list[str] = field(default_factory=list)  # new intents that ask for a person: added to handoff_intents
    renamed: dict[str, str] = field(default_factory=dict)  # label as written -> intent name
    skipped: list[tuple[int, str]] = field(default_factory=list)
    markers: dict[str, int] = field(default_factory=dict)  # {{Name}} -> replies holding it
    files: dict[str, CommentedMap | str] = field(default_factory=dict)  # relative path -> new content


def intent_name(label: str) -> str:
    """A label as a valid intent name: "Track Order" -> "track_order"; the out-of-scope labels -> oos."""
    name = re.sub(r"[^a-z0-9_?]+", "_", label.strip().lower()).strip("_")
    return OOS if name in OUT_OF_SCOPE_LABELS else name


def key(text: str) -> str:
    return " ".join(text.lower().split())


def markers_in(text: str) -> list[str]:
    """The `{{Name}}` markers of `text`, each once however often and in whatever case it is written."""
    found: dict[str, str] = {}
    for marker in MARKER.findall(text):
        found.setdefault(key(marker), marker)
    return list(found.values())


# Words of a request for a person; an imported intent named with one, or whose messages mostly hold one
# together with talk/speak/connect, hands off like the built-in human_handoff (dialog.handoff_intents).
_PERSON = {"human", "person", "agent", "representative", "operator", "someone", "staff", "somebody", "people"}
_REACH = {"talk", "speak", "chat", "connect", "transfer", "contact", "call", "put"}


def asks_for_person(name: str, examples: list[str]) -> bool:
    """Whether an imported intent is a request to talk to a person ("contact_human_agent")."""
    words = set(name.split("_"))
    if words & {"human", "handoff", "operator", "representative"} or {"live", "agent"} <= words:
        return True
    if not examples:
        return False
    hits = 0
    for text in examples:
        tokens = set(re.findall(r"[a-z]+", text.lower()))
        hits += bool(tokens & _PERSON and tokens & _REACH)
    return hits >= 0.6 * len(examples)


def _stable(text: str) -> str:
    return hashlib.sha1(key(text).encode()).hexdigest()


def plan_messages(
    table: Table, bot_dir: Path, text_column: str, label_column: str, cap: int, per_intent: int, answers_cap: int
) -> MessagesImport:
    """What importing `table` into the bot at `bot_dir` would change."""
    out = MessagesImport(skipped=list(table.problems))
    intents_doc = yamlfiles.load(bot_dir / "knowledge/intents.yaml", "intents", [])
    responses_doc = yamlfiles.load(bot_dir / "dialogs/responses.yaml", "responses", {})
    templates_doc = yamlfiles.load(bot_dir / "dialogs/templates.yaml", "templates", {})
    heldout_rows = read_heldout(bot_dir / HELDOUT)
    by_name = {str(entry["name"]): entry for entry in intents_doc["intents"]}
    seen = {key(str(t)) for entry in by_name.values() for t in entry.get("examples") or []}
    seen |= {key(text) for text, _ in heldout_rows}

    # A label names an existing intent however that intent is spelled ("Refund_not_showing_up" keeps its capitals).
    spelled = {intent_name(name): name for name in by_name}
    new: dict[str, list[str]] = {}
    replies: dict[str, dict[str, tuple[str, list[str]]]] = {}  # intent -> reply key -> (reply, messages)
    for row in table.rows:
        text, label = row.get(text_column), row.get(label_column)
        if not text or not label:
            out.skipped.append((row.line, f"no `{text_column if not text else label_column}`"))
            continue
        name = intent_name(label)
        name = spelled.get(name, name)
        if not name:
            out.skipped.append((row.line, f"label {label!r} has no letters or digits"))
            continue
        if name != label:
            out.renamed.setdefault(label, name)
        reply = row.get("response")
        if reply and name != OOS:
            known = replies.setdefault(name, {}).setdefault(key(reply), (reply, []))
            known[1].append(text)
        if key(text) in seen:
            out.duplicates += 1
            continue
        seen.add(key(text))
        new.setdefault(name, []).append(text)

    added_rows: list[tuple[str, str]] = []
    for name, texts in new.items():
        entry = by_name.get(name)
        if entry is None:
            # A small-talk label (greeting, thanks, ...) starts from the built-in examples it now replaces.
            entry = CommentedMap(name=name, examples=CommentedSeq(small_talk.EXAMPLES.get(name, [])))
            intents_doc["intents"].append(entry)
            by_name[name] = entry
            out.new_intents.append(name)
        room = max(0, cap - len(entry["examples"]))
        ordered = sorted(texts, key=_stable)
        entry["examples"].extend(ordered[:room])
        out.examples += len(ordered[:room])
        added_rows += [(text, name) for text in ordered[room:]]
    out.held_out = len(added_rows)

    for name, found in replies.items():
        if name not in by_name:  # every message of this label was already another intent's: no intent to reply for
            continue
        out.replies, out.answers = _merge_replies(responses_doc["responses"], name, found, per_intent, answers_cap, out)
    for name in out.new_intents:
        answered_by_persona = name in small_talk.EXAMPLES  # small talk keeps the persona's reply (agent/bot/folder.py)
        if (
            not answered_by_persona
            and name not in responses_doc["responses"]
            and name not in templates_doc["templates"]
        ):
            templates_doc["templates"][name] = CommentedMap(text=DRAFT)
            out.drafts.append(name)
    for spec_list in responses_doc["responses"].values():
        for spec in spec_list:
            for marker in markers_in(str(spec["text"])):
                out.markers[marker] = out.markers.get(marker, 0) + 1

    config_doc = yamlfiles.load(bot_dir / "bot.yaml", "dialog", {})
    wanted = config_doc["dialog"].get("handoff_intents")
    current = [str(n) for n in wanted] if wanted is not None else ["human_handoff"]
    out.handoffs = [n for n in out.new_intents if n not in current and asks_for_person(n, new.get(n, []))]
    if out.handoffs:
        listed = CommentedSeq([*current, *out.handoffs])
        listed.fa.set_flow_style()
        config_doc["dialog"]["handoff_intents"] = listed
        out.files["bot.yaml"] = config_doc
    if out.examples or out.new_intents:
        out.files["knowledge/intents.yaml"] = intents_doc
    if out.replies or out.answers:
        out.files["dialogs/responses.yaml"] = responses_doc
    if out.drafts:
        out.files["dialogs/templates.yaml"] = templates_doc
    if added_rows:
        out.files[HELDOUT] = _heldout_text([*heldout_rows, *added_rows])
    return out


def _merge_replies(
    doc: CommentedMap,
    name: str,
    found: dict[str, tuple[str, list[str]]],
    per_intent: int,
    answers_cap: int,
    out: MessagesImport,
) -> tuple[int, int]:
    """Add this file's replies of intent `name` to its responses; returns the running (replies, answers)."""
    replies, answers = out.replies, out.answers
    existing = doc.get(name)
    if existing is None:
        existing = doc[name] = CommentedSeq()
    kept = {key(str(spec["text"])): spec for spec in existing}
    fresh = {k: v for k, v in found.items() if k not in kept}
    room = per_intent - len(kept)
    if room > 0 and fresh:
        chosen = _representatives(list(fresh), room)
        for k in chosen:
            reply, _ = fresh[k]
            spec = CommentedMap(text=reply, answers=CommentedSeq())
            existing.append(spec)
            kept[k] = spec
            replies += 1
    # Every message goes to its own reply if kept, else to the kept reply whose words are closest.
    targets = list(kept)
    nearest = _nearest(list(found), targets)
    for k, (_, messages) in found.items():
        spec = kept[nearest[k]]
        have = {key(str(a)) for a in spec["answers"]}
        for message in messages:
            if len(spec["answers"]) >= answers_cap or key(message) in have:
                continue
            spec["answers"].append(message)
            have.add(key(message))
            answers += 1
    if not existing:
        del doc[name]
    return replies, answers


def _representatives(keys: list[str], k: int) -> list[str]:
    """`k` of the reply texts `keys` that stand for all of them: the one nearest each k-means centre.

    Fewer come back when the replies have fewer than `k` different wordings (k-means then leaves
    centres without members); replies with no words at all ("👍", "?") are kept in file order.
    """
    if len(keys) <= k:
        return keys
    try:
        vectors = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(keys)
    except ValueError:  # empty vocabulary: no reply has a word of two letters or more
        return keys[:k]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct replies than centres
        model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(vectors)
    distances = model.transform(vectors)  # (replies, centres): Euclidean distance of each reply to each centre
    chosen = []
    for centre in range(k):
        members = np.flatnonzero(model.labels_ == centre)
        if len(members):
            chosen.append(keys[int(members[int(np.argmin(distances[members, centre]))])])
    return sorted(set(chosen), key=keys.index)


def _nearest(keys: list[str], targets: list[str]) -> dict[str, str]:
    """Each of `keys` -> the closest of `targets` by the words they share (itself when it is one)."""
    if not targets:
        return {}
    others = [k for k in keys if k not in targets]
    nearest = {k: k for k in keys if k in targets}
    if not others:
        return nearest
    try:
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(keys + targets)
    except ValueError:  # empty vocabulary: nothing to compare, the first reply takes them
        return {**nearest, **{k: targets[0] for k in others}}
    similarity = (vectorizer.transform(others) @ vectorizer.transform(targets).T).toarray()
    return {**nearest, **{k: targets[int(np.argmax(row))] for k, row in zip(others, similarity, strict=True)}}


def read_heldout(path: Path) -> list[tuple[str, str]]:
    """(text, label) rows of the held-out file `import` writes."""
    if not path.is_file():
        return []
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    return [(row.get("text") or "", row.get("label") or "") for row in reader if row.get("text")]


def _heldout_text(rows: list[tuple[str, str]]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    return out.getvalue()
