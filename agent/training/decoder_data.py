"""Training data for the decoder, made from the bot's own knowledge by its own pipeline.

Customer messages come from intents.yaml (a capped number per intent), every
FAQ question and alternative phrasing, the same messages naming each entity a
template slot can take, and the example conversations (with their history).
Each message runs through the pipeline without the decoder; where the policy
answers from a FAQ or a template, (prompt, that answer) is one example. So the
model learns to write what the grounding supports, in the bot's own words,
from exactly the prompts it will see at answer time.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agent.bot.folder import BotFolder
from agent.bot.schemas import OOS
from agent.progress import track
from agent.steps.decoder.prompt import grounding_for, render_prompt
from agent.steps.graph import KnowledgeGraph
from agent.types import SessionState, Turn

BATCH = 128

# Runs the pipeline on (session_id, text) messages with the given session states: `Agent.annotate`.
Annotate = Callable[[Sequence[tuple[str, str]], dict[str, SessionState]], list[Turn]]


@dataclass(frozen=True)
class Example:
    prompt: str
    target: str


def augment(text: str, rng: random.Random) -> str:
    """A noisy copy of a customer message: case, punctuation or a typo, as customers write."""
    choice = rng.randrange(4)
    if choice == 0:
        return text.lower()
    if choice == 1:
        return re.sub(r"[?.!,']", "", text)
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long_words:
        return text.lower()
    i = rng.choice(long_words)
    word = words[i]
    j = rng.randrange(1, len(word) - 1)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :] if choice == 2 else word[:j] + word[j + 1 :]
    return " ".join(words)


def customer_messages(
    bot: BotFolder, graph: KnowledgeGraph, per_intent: int, augment_copies: int, seed: int
) -> list[str]:
    """Single-turn messages: intent examples, FAQ phrasings, slot variants and noisy copies."""
    rng = random.Random(seed)
    messages: list[str] = []
    by_intent: dict[str, list[str]] = {}
    for spec in bot.intents.intents:
        if spec.name == OOS:
            continue
        picked = rng.sample(spec.examples, min(per_intent, len(spec.examples)))
        by_intent[spec.name] = picked
        messages += picked
    for faq in bot.faq.faqs:
        messages += faq.texts()
    # Name each entity a slot can take, so the when_known variants and filled slots are learnt too.
    for intent, template in bot.templates.templates.items():
        for slot in template.slots.values():
            entities = graph.entities_of_type(slot.type)
            for entity_id in rng.sample(entities, min(6, len(entities))):
                base = rng.choice(by_intent.get(intent) or [intent.replace("_", " ")])
                messages.append(f"{base.rstrip('?.! ')} - {graph.entity(entity_id)['name']}")
    noisy = [augment(m, rng) for m in messages for _ in range(augment_copies)]
    return list(dict.fromkeys(messages + noisy))


def collect_examples(
    annotate: Annotate, bot: BotFolder, graph: KnowledgeGraph, progress: bool = False
) -> list[Example]:
    """(prompt, answer) pairs from the pipeline's own answers; duplicates removed."""
    cfg = bot.config.decoder
    limit = bot.config.limits.max_message_chars
    messages = [
        m[:limit]
        for m in customer_messages(bot, graph, cfg.examples_per_intent, cfg.training.augment, cfg.training.seed)
    ]
    examples: list[Example] = []
    batches = range(0, len(messages), BATCH)
    if progress:
        batches = track(batches, description="decoder data", total=len(batches), unit="batch")
    for start in batches:
        chunk = messages[start : start + BATCH]
        turns = annotate([(f"d{start + i}", text) for i, text in enumerate(chunk)], {})
        examples += _examples(turns, graph, cfg.max_facts, cfg.prompt_draft)
    for conversation in bot.conversations.conversations:
        state = SessionState()
        for turn_spec in conversation.turns:
            if turn_spec.role != "customer":
                continue
            (turn,) = annotate(
                [(conversation.conversation_id, turn_spec.text[:limit])], {conversation.conversation_id: state}
            )
            examples += _examples([turn], graph, cfg.max_facts, cfg.prompt_draft)
            state.remember(turn.text, turn.decision.text if turn.decision else "", bot.config.dialog.history_turns)
    return _cap_per_answer(list(dict.fromkeys(examples)), cfg.examples_per_answer, cfg.training.seed)


def _cap_per_answer(examples: list[Example], cap: int, seed: int) -> list[Example]:
    """At most `cap` examples per distinct answer: a template repeated 40 times teaches little more than 4."""
    rng = random.Random(seed)
    by_target: dict[str, list[Example]] = {}
    for ex in examples:
        by_target.setdefault(ex.target, []).append(ex)
    kept = [ex for group in by_target.values() for ex in rng.sample(group, min(cap, len(group)))]
    rng.shuffle(kept)
    return kept


def _examples(turns: list[Turn], graph: KnowledgeGraph, max_facts: int, draft: bool) -> list[Example]:
    found = []
    for turn in turns:
        grounding = grounding_for(turn, graph, max_facts)
        if grounding is not None:
            found.append(Example(prompt=render_prompt(grounding, draft), target=grounding.target))
    return found
