"""The `import` command: which kind of data a file is, the summary, --dry-run, and a safe write.

    python -m agent import messages.csv --bot DIR     text,label[,response]: intents, held-out set, responses
    python -m agent import faq.csv --bot DIR          question,answer[,id][,alternatives]: FAQ entries
    python -m agent import FILE --bot DIR --dry-run   say what would change, write nothing

The files are written only after the whole import is planned, each atomically, and
the bot folder is read back; if it no longer validates, every file is put back as it
was and the error is reported, so an import never leaves a bot broken or half-changed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from agent.bot.folder import read_bot
from agent.bot.importing import yamlfiles
from agent.bot.importing.faq import FaqImport, plan_faq
from agent.bot.importing.messages import HELDOUT, MessagesImport, plan_messages
from agent.bot.importing.pages import PagesImport, plan_pages
from agent.bot.importing.tables import read_table
from agent.bot.schemas import marker_key
from agent.exceptions import AgentError, DatasetError

SHOWN_SKIPS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", help="a .csv/.jsonl of labelled messages or of questions and answers")
    parser.add_argument("--bot", default=".", help="bot folder to add to (default: current folder)")
    parser.add_argument("--dry-run", action="store_true", help="print what would be added; write nothing")
    parser.add_argument("--text-column", default="text", help="column of the customer's message (default: text)")
    parser.add_argument("--label-column", default="label", help="column of the intent label (default: label)")
    parser.add_argument("--cap", type=int, default=100, help="most examples kept per intent; the rest are held out")
    parser.add_argument("--responses-per-intent", type=int, default=8, help="most different replies per intent")
    parser.add_argument("--answers-per-response", type=int, default=20, help="most past messages kept per reply")


def run(args: argparse.Namespace) -> int:
    for option in ("cap", "responses_per_intent", "answers_per_response"):
        if getattr(args, option) < 1:
            raise DatasetError(f"--{option.replace('_', '-')} {getattr(args, option)}: give a whole number >= 1.")
    bot = read_bot(args.bot)  # a bad bot folder is reported before anything is read or written
    source = Path(args.source)
    plan: MessagesImport | FaqImport | PagesImport
    if source.is_dir():
        plan = plan_pages(source, bot.path)
        for line in summary(plan, {}, source, args.dry_run):
            print(line)
        if not args.dry_run and plan.files:
            write_checked(bot.path, plan.files)
        return 0
    table = read_table(source)
    columns = set(table.columns)
    if {"question", "answer"} <= columns:
        plan = plan_faq(table, bot.path)
    elif {args.text_column, args.label_column} <= columns:
        plan = plan_messages(
            table,
            bot.path,
            args.text_column,
            args.label_column,
            args.cap,
            args.responses_per_intent,
            args.answers_per_response,
        )
    else:
        raise DatasetError(
            f"{source}: columns {', '.join(table.columns) or 'none'}; expected `text,label[,response]` (labelled "
            "messages; --text-column/--label-column name others) or `question,answer[,id][,alternatives]` (FAQ)."
        )
    mapped = {marker_key(name) for name in bot.config.placeholders}
    unmapped: dict[str, int] = {}  # as first spelled -> replies holding it: {{Order Number}}, {{order number}} are one
    spelled: dict[str, str] = {}
    for marker, count in plan.markers.items():
        if marker_key(marker) not in mapped:
            name = spelled.setdefault(marker_key(marker), marker)
            unmapped[name] = unmapped.get(name, 0) + count
    for line in summary(plan, unmapped, source, args.dry_run):
        print(line)
    if not args.dry_run and plan.files:
        write_checked(bot.path, plan.files)
    return 0


def summary(
    plan: MessagesImport | FaqImport | PagesImport, unmapped: dict[str, int], source: Path, dry: bool
) -> list[str]:
    verb = "would add" if dry else "added"
    lines = []
    if isinstance(plan, MessagesImport):
        lines.append(
            f"{source}: {verb} {len(plan.new_intents)} new intents, {plan.examples} examples, "
            f"{plan.held_out} held out for the check `train` prints ({HELDOUT}), {plan.replies} replies "
            f"(+{plan.answers} past messages choosing them); {plan.duplicates} duplicates dropped"
        )
        if plan.new_intents:
            lines.append(f"  new intents: {', '.join(plan.new_intents)}")
        for label, name in list(plan.renamed.items())[:SHOWN_SKIPS]:
            lines.append(f"  label {label!r} -> intent {name}")
        if plan.handoffs:
            lines.append(f"  {', '.join(plan.handoffs)}: asks for a person, added to bot.yaml dialog.handoff_intents")
        if plan.drafts:
            lines.append(
                f"  {len(plan.drafts)} intents have no reply yet ({', '.join(plan.drafts[:5])}): their draft "
                "template in dialogs/templates.yaml is never sent until you write it"
            )
    elif isinstance(plan, PagesImport):
        lines.append(
            f"{source}: {verb} {len(plan.added)} pages, {'would update' if dry else 'updated'} {len(plan.updated)} "
            f"({plan.passages} passages for "
            f"`train` to index); {plan.unchanged} unchanged"
        )
        if plan.skipped:
            lines.append(
                f"  {len(plan.skipped)} files skipped: " + "; ".join(why for _, why in plan.skipped[:SHOWN_SKIPS])
            )
        if not plan.files:
            lines.append("  nothing to change")
        return lines
    else:
        lines.append(f"{source}: {verb} {plan.added} FAQ entries; {plan.duplicates} duplicates dropped")
    if plan.skipped:
        skipped = sorted(plan.skipped)  # the unreadable lines and the incomplete rows, in the file's order
        shown = "; ".join(f"line {line}: {why}" for line, why in skipped[:SHOWN_SKIPS])
        more = f" (+{len(plan.skipped) - SHOWN_SKIPS} more)" if len(plan.skipped) > SHOWN_SKIPS else ""
        lines.append(f"  {len(plan.skipped)} rows skipped: {shown}{more}")
    if unmapped:
        lines.append(
            f"  {len(unmapped)} placeholders not mapped in bot.yaml `placeholders` (a reply holding one is "
            "never sent): " + ", ".join(f"{{{{{m}}}}} ({n} replies)" for m, n in sorted(unmapped.items()))
        )
    if not plan.files:
        lines.append("  nothing to change")
    return lines


def write_checked(bot_dir: Path, files: dict[str, CommentedMap | str | bytes]) -> None:
    """Write every file, then read the bot back; put everything back if it no longer validates."""
    before = {rel: (bot_dir / rel).read_bytes() if (bot_dir / rel).is_file() else None for rel in files}
    try:
        for rel, content in files.items():
            path = bot_dir / rel
            if isinstance(content, str | bytes):
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(path.suffix + ".tmp")
                tmp.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
                tmp.replace(path)
            else:
                yamlfiles.save(path, content)
        read_bot(bot_dir)
    except (AgentError, OSError) as exc:
        for rel, old in before.items():
            if old is None:
                (bot_dir / rel).unlink(missing_ok=True)
            else:
                (bot_dir / rel).write_bytes(old)
        raise DatasetError(f"the import was undone, nothing changed: {exc}") from None
