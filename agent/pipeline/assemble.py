"""From a bot folder and its build folder to the steps the dialog manager runs.

    load_bot(path)                   the bot folder, read and fully checked
    load_steps(bot, encoder, ...)    every step, in pipeline order, loaded from the build folder

The steps with files in the build folder are `Artifact`s and load through one
signature, so this is a loop over their classes; the others are made from the
bot's files and the steps already loaded.
"""

from __future__ import annotations

from pathlib import Path

from agent.bot.folder import FILES, BotFolder, read_bot
from agent.exceptions import ConfigError
from agent.steps.context import ContextReader, FollowOnPrior
from agent.steps.decoder.step import load_decoder
from agent.steps.docs import DocsIndex
from agent.steps.encoder import Encoder
from agent.steps.faq import FaqIndex
from agent.steps.graph import KnowledgeGraph
from agent.steps.intents import IntentClassifier
from agent.steps.patterns import PatternFinder
from agent.steps.placeholders import Placeholders
from agent.steps.policy import Policy
from agent.steps.responses import ResponseSelector
from agent.steps.sentiment import Sentiment
from agent.steps.templates import TemplateEngine, check_templates
from agent.types import Artifact, Step

# The steps with files in the build folder, in the order the pipeline runs them.
ARTIFACT_STEPS: tuple[type[Artifact], ...] = (IntentClassifier, FaqIndex, DocsIndex, KnowledgeGraph)


def load_bot(path: str | Path) -> BotFolder:
    """Read and validate every file of the bot folder at `path`, templates checked against the graph."""
    bot = read_bot(path)
    graph = KnowledgeGraph.from_spec(bot.graph, bot.config.graph)
    problem = check_templates(bot.templates, graph, set(bot.config.patterns))
    if problem:
        raise ConfigError(f"{FILES['templates']}: {problem}")
    placeholders = Placeholders(bot.config.placeholders, graph)
    for name in bot.config.placeholders:
        if (problem := placeholders.problem(name)) is not None:
            raise ConfigError(f"bot.yaml: placeholders.{name}: {problem} (e.g. `{{fact: shop.phone}}`).")
    return bot


def load_steps(bot: BotFolder, encoder: Encoder, *, decoder: bool = True) -> list[Step]:
    """The bot's pipeline: encoder, intents, FAQ, docs, graph, patterns, sentiment, context, policy and (when
    enabled) decoder."""
    loaded = [kind.load(bot.build_path / kind.artifact, bot.config, encoder) for kind in ARTIFACT_STEPS]
    graph = next(step for step in loaded if isinstance(step, KnowledgeGraph))
    classifier = next(step for step in loaded if isinstance(step, IntentClassifier))
    docs = next(step for step in loaded if isinstance(step, DocsIndex))
    context = bot.config.dialog.context
    prior = FollowOnPrior.build(
        classifier, bot.conversations, context.similarity_temperature, context.prior_strength, context.topic_free_after
    )
    responses = ResponseSelector.empty()
    if bot.responses.responses:
        responses = ResponseSelector.load(bot.build_path / ResponseSelector.artifact, bot.config, encoder)
    placeholders = Placeholders(bot.config.placeholders, graph)
    engine = TemplateEngine(bot.templates, graph, responses, placeholders, set(bot.config.patterns))
    steps: list[Step] = [
        encoder,
        *loaded,
        PatternFinder(bot.config.patterns),
        # VADER reads no more words than a message of plain one-letter words could hold (agent/steps/sentiment.py).
        Sentiment(max_words=(bot.config.limits.max_message_chars + 1) // 2),
        ContextReader(encoder, classifier, graph, prior, context),
        Policy(bot.config, engine, docs),
    ]
    if decoder and bot.config.decoder.enabled:
        steps.append(load_decoder(bot, graph))
    return steps
