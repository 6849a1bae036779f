"""`python -m agent init DIR`: a minimal, commented bot folder that trains and chats as it is.

The folder holds every file a bot can have, each with its shape shown in comments and
nothing a bot author must fill before the first `train`: the built-in small talk
(agent/bot/small_talk.py) gives it greeting, thanks, goodbye, handoff and out-of-scope
replies, and `python -m agent import` fills the rest from the company's own data.
"""

from __future__ import annotations

from pathlib import Path

from agent.exceptions import ConfigError

BOT_YAML = """\
# {name}: made with `python -m agent init`. Every key but `name` is optional;
# docs/configuration.md (in the framework) lists them all, with types, defaults and ranges.
name: "{name}"

intents:
  # How sure (0-1) the classifier must be of an intent before its reply is given;
  # under it the bot answers from the FAQ if a question matches, else asks to rephrase.
  confident: 0.50
  # Under this confidence a message is out of scope: "Sorry, I can't help with that."
  oos_threshold: 0.30

faq:
  # How close (cosine similarity, 0-1) a message must be to an FAQ question to get its answer.
  answer_threshold: 0.80

dialog:
  # Greeting, thanks, goodbye and asking for a person work without being written;
  # define an intent of the same name in knowledge/intents.yaml to replace one.
  small_talk: true
  # Intents that hand the conversation to a person.
  handoff_intents: [human_handoff]

persona:
  # `{{name}}` is the bot's name.
  greeting: "Hello! I'm {{name}}. How can I help?"
  fallback: "Sorry, I can't help with that. Could you ask me something else?"
  clarify: "I'm not sure I understood. Could you rephrase that?"
  handoff: "I'm passing you to a member of our team, who will reply here shortly."

# `{{{{Name}}}}` markers in imported replies, each mapped to fixed text, a graph fact or a slot, e.g.
#   Customer Support Phone Number: {{text: "+1 555 0100"}}
#   Store Hours: {{fact: shop.opening_hours}}
# A reply with a marker that is not mapped is never sent (`train` lists them).
placeholders: {{}}

decoder:
  # A language model fine-tuned on this bot's answers that rewrites them in a natural voice,
  # under a guard that keeps only grounded text. Turn it on once the answers are right and
  # `train` may take a few minutes more (a GPU makes it quick).
  enabled: false
"""

INTENTS_YAML = """\
# Intents: what customers want, each taught by example messages (10 or more each works well).
# `python -m agent import messages.csv --bot .` adds them from your own labelled messages.
# greeting, thanks, goodbye, human_handoff and out-of-scope (`oos`) examples are built in.
#
#   - name: track_order
#     examples:
#       - where is my parcel?
#       - has my order shipped yet
intents: []
"""

FAQ_YAML = """\
# Questions answered the same way every time. `python -m agent import faq.csv --bot .`
# adds them from a question,answer CSV.
#
#   - id: opening-hours
#     question: When are you open?
#     alternatives: [what are your opening hours]
#     answer: Every day from 9:00 to 17:00.
faqs: []
"""

GRAPH_YAML = """\
# Facts replies can quote: entities with attributes, relations between them, and procedures.
# A template says {{express_delivery.time}}; the customer naming an alias fills a slot.
#
#   - id: express_delivery
#     type: delivery
#     name: Express delivery
#     aliases: [express, next day]
#     attributes: {{time: 1 working day, price: EUR 9.90}}
entities: []
"""

TEMPLATES_YAML = """\
# A reply per intent, with {{entity.attribute}} facts from the graph and slots the customer fills.
# An intent with imported responses (dialogs/responses.yaml) needs no template.
#
#   track_order:
#     text: "You can follow your parcel under Orders in the app."
templates: {{}}
"""

README = """\
# {name}

A support bot folder for the framework's `python -m agent` commands.

| file | what it is for |
| --- | --- |
| `bot.yaml` | settings: thresholds, persona sentences, placeholders, the decoder |
| `knowledge/intents.yaml` | intents and the example messages that teach them |
| `knowledge/faq.yaml` | questions answered the same way every time |
| `knowledge/graph.yaml` | facts (entities, attributes, relations) and procedures replies can use |
| `dialogs/templates.yaml` | a reply per intent, filled from the graph |
| `dialogs/responses.yaml` | replies imported from past conversations (written by `import`) |
| `dialogs/conversations.yaml` | example conversations (optional): how follow-ups go |
| `build/` | what `train` builds; not to edit or commit |

Grow it:

1. `python -m agent import messages.csv --bot .` (columns `text,label[,response]`) adds
   intents, examples and replies; `import faq.csv` (`question,answer`) adds FAQ entries.
   Add `--dry-run` to see what would change.
2. `python -m agent train --bot .` builds it (again after every change; only what changed).
3. `python -m agent chat --bot .` to talk to it, `python -m agent tui --bot .` to see why it answers.
4. Map the `{{{{...}}}}` markers `train` lists in bot.yaml `placeholders`; write templates for
   intents whose answer should quote facts; add example conversations for follow-ups.
"""

FILES = {
    "bot.yaml": BOT_YAML,
    "knowledge/intents.yaml": INTENTS_YAML,
    "knowledge/faq.yaml": FAQ_YAML,
    "knowledge/graph.yaml": GRAPH_YAML,
    "dialogs/templates.yaml": TEMPLATES_YAML,
    "README.md": README,
    ".gitignore": "build/\n",
}


def default_name(folder: Path) -> str:
    """ "acme-shop" -> "Acme Shop assistant"."""
    words = folder.resolve().name.replace("-", " ").replace("_", " ").split()
    return f"{' '.join(w.capitalize() for w in words) or 'Support'} assistant"


def init_bot(folder: str | Path, name: str | None = None) -> list[Path]:
    """Write a new bot folder at `folder` (which must be new or empty); returns the files written."""
    root = Path(folder)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"'{folder}' already exists and is not an empty folder; `init` only writes a new bot.")
    title = (name or default_name(root)).strip()
    # The name is written inside a double-quoted YAML string, where a quote or a backslash would end or
    # escape it, and into the persona's greeting, a small-talk template, where braces are placeholders.
    if not title or not title.isprintable() or any(c in title for c in '"\\{}'):
        raise ConfigError(
            f"--name {name!r}: give a one-line name without double quotes, backslashes or braces "
            "(e.g. --name 'Acme help')."
        )
    written = []
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=title), encoding="utf-8")
        written.append(path)
    return written
