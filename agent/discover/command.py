"""Intent discovery: the customer messages no intent covers confidently, grouped into proposed intents.

A message is covered when the bot's intent classifier gives it an in-scope intent with
a confidence of at least `intents.confident` (the level at which the bot answers from
the intent); every other message (out of scope, or a guess below that level) is
uncovered. The uncovered ones are encoded with the bot's own sentence encoder (the
vectors the classifier read) and clustered (agent/discover/clusters.py); the proposals
are written as a draft `import` reads (agent/discover/draft.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.bot.folder import read_bot
from agent.discover.clusters import DISTANCE_THRESHOLD, MAX_MESSAGES, Clustering, propose
from agent.discover.draft import check_out, write_draft
from agent.discover.messages import read_messages
from agent.steps.intents import IntentClassifier
from agent.training.build import load_trained

SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class Discovery:
    """What one `discover` run read, kept and proposed."""

    log: str
    out: Path
    read: int
    problems: list[str]
    uncovered: list[str]
    confident: float
    clustering: Clustering

    def lines(self) -> list[str]:
        """The summary `discover` prints."""
        c = self.clustering
        lines = [
            f"{self.log}: {self.read} customer messages read, {len(self.uncovered)} not covered by an intent "
            f"(out of scope, or confidence below {self.confident:g}), {c.distinct} distinct",
            f"  {len(c.proposals)} intents proposed, {c.unclustered} distinct messages left unclustered",
        ]
        if self.problems:
            shown = "; ".join(self.problems[:SHOWN_PROBLEMS])
            more = f" (+{len(self.problems) - SHOWN_PROBLEMS} more)" if len(self.problems) > SHOWN_PROBLEMS else ""
            lines.append(f"  {len(self.problems)} lines or messages skipped: {shown}{more}")
        if c.sampled:
            lines.append(
                f"  more than {MAX_MESSAGES} distinct messages: a fixed sample of {MAX_MESSAGES} was clustered"
            )
        for proposal in c.proposals:
            lines.append(f"  {proposal.name} ({proposal.size} messages): {proposal.examples[0]!r}")
        if c.proposals:
            lines.append(
                f"draft written to {self.out}: delete the rows of the proposals you reject, rename any label, "
                f"then `python -m agent import {self.out} --bot BOT`"
            )
        else:
            lines.append(f"draft written to {self.out}: nothing to propose")
        return lines


def discover(
    log: str | Path,
    bot_dir: str | Path,
    out: Path,
    *,
    min_size: int,
    max_intents: int | None,
    threshold: float | None = None,
    confidence: float | None = None,
    progress: bool = False,
) -> Discovery:
    """Propose new intents from the uncovered customer messages of `log` and write them to `out`.

    `confidence`: the level at which an intent covers a message (default: the bot's `intents.confident`).
    """
    check_out(out)
    bot = read_bot(bot_dir)  # a bad bot folder or log is reported before the slow part
    messages = read_messages(log, bot.config.limits.max_message_chars)
    agent = load_trained(bot.path, store_url="sqlite:///:memory:", decoder=False, progress=progress)
    try:
        classifier = agent.step(IntentClassifier)
        texts = messages.texts
        vectors = agent.encoder.encode(texts, progress=progress)
        predictions = classifier.predict(vectors, top_k=1, texts=texts)
    finally:
        agent.close()
    confident = bot.config.intents.confident if confidence is None else confidence
    keep = [i for i, p in enumerate(predictions) if p.out_of_scope or p.confidence < confident]
    taken = {*classifier.labels, *(entry.name for entry in bot.intents.intents)}
    clustering = propose(
        [texts[i] for i in keep],
        vectors[keep],
        taken,
        min_size=min_size,
        max_intents=max_intents,
        threshold=DISTANCE_THRESHOLD if threshold is None else threshold,
    )
    write_draft(out, clustering.proposals)
    return Discovery(
        messages.source, out, len(texts), messages.problems, [texts[i] for i in keep], confident, clustering
    )
