"""`python -m agent review apply review.csv --bot DIR`: the labelled rows of a review file become examples.

The rows are handed to `import`'s own planning and checked write (agent/bot/importing/):
labels become intent names, `oos` adds out-of-scope examples, a new intent gets a draft
template the author completes, every text already in the bot is a duplicate (so applying
the same file twice adds nothing) and a write that would leave the bot invalid is undone.
A row without a label is left out; its `similar` messages (one per line) are added with
the row's label, since the author labelled them together. Unlike `import`, no label is
held out: every example a person chose goes into knowledge/intents.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.bot.folder import read_bot
from agent.bot.importing.args import summary, write_checked
from agent.bot.importing.messages import plan_messages
from agent.bot.importing.tables import Row, Table, read_table
from agent.exceptions import DatasetError
from agent.review.export import unsafe_cell

NO_CAP = 10**9  # review labels are all kept as examples (import's --cap would hold some out)


@dataclass(frozen=True)
class Applied:
    """What applying a review file printed, and whether it changed the bot."""

    lines: list[str]
    labelled: int  # rows with a label
    unlabelled: int  # rows left out
    changed: bool


def apply_review(path: Path, bot_dir: str | Path, dry_run: bool = False) -> Applied:
    """Add the labelled rows of `path` to the bot at `bot_dir` (nothing is written when `dry_run`)."""
    bot = read_bot(bot_dir)  # a bad bot folder is reported before anything is read or written
    table = read_table(path)
    if not {"text", "label"} <= set(table.columns):
        raise DatasetError(
            f"{path}: columns {', '.join(table.columns) or 'none'}; expected a review file with `text` and `label` "
            "(written by `python -m agent review export`)."
        )
    rows: list[Row] = []
    labelled = unlabelled = 0
    for row in table.rows:
        label = row.get("label")
        if not label:
            unlabelled += 1
            continue
        labelled += 1
        texts = [row.get("text"), *row.get("similar").split("\n")]
        rows += [Row(row.line, {"text": unsafe_cell(t.strip()), "label": label}) for t in texts if t.strip()]
    plan = plan_messages(
        Table(table.path, ["text", "label"], rows, table.problems),
        bot.path,
        "text",
        "label",
        cap=NO_CAP,
        per_intent=8,
        answers_cap=20,
    )
    lines = summary(plan, {}, path, dry_run)
    lines.insert(
        1,
        f"  {labelled} labelled rows ({len(rows)} messages with their similar ones); "
        f"{unlabelled} without a label left out",
    )
    if not dry_run and plan.files:
        write_checked(bot.path, plan.files)
    if plan.files:
        where = "" if str(bot_dir) == "." else f" --bot {bot_dir}"
        lines.append("next:")
        if plan.drafts:
            lines.append(
                f"  write the replies of {', '.join(plan.drafts)} in dialogs/templates.yaml (drafts are never sent)"
            )
        lines.append(f"  python -m agent train{where}")
        lines.append(f"  python -m agent replay LOG{where} --out NEW_RUN --compare OLD_RUN   # what the labels changed")
    return Applied(lines=lines, labelled=labelled, unlabelled=unlabelled, changed=bool(plan.files) and not dry_run)
