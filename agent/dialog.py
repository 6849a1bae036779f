"""The dialog manager: runs the steps on a batch of turns, applies the policy, stores the result.

    agent = Agent.load("path/to/bot")
    reply = agent.respond("session-1", "how much is a cash withdrawal abroad?")
    print(reply.text, reply.source, reply.intent, reply.confidence)

`Agent` composes step objects (`Step` protocol in agent.types); it never looks
anything up by name. Session state lives in the store, so any process sharing
the store can answer the next message of a conversation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from agent.botfolder import BotFolder, load_bot
from agent.exceptions import BuildError
from agent.messages import check_session_id, clean_message
from agent.policy import Policy
from agent.schemas import FaqEntry
from agent.steps.encoder import Encoder
from agent.steps.faq import FaqIndex
from agent.steps.graph import KnowledgeGraph
from agent.steps.intents import IntentClassifier
from agent.steps.sentiment import Sentiment
from agent.store import ConversationRecord, Store, TurnRecord
from agent.templates import TemplateEngine
from agent.train import build, stale_artifacts
from agent.types import Reply, SessionState, Step, Turn


class Agent:
    """A loaded bot: its pipeline steps (policy included) and its store."""

    def __init__(
        self,
        bot: BotFolder,
        encoder: Encoder,
        steps: Sequence[Step],
        faq: FaqIndex,
        store: Store,
    ) -> None:
        self.bot = bot
        self.config = bot.config
        self.encoder = encoder
        self.steps = list(steps)
        self.faq = faq
        self.store = store

    @classmethod
    def load(
        cls,
        bot_dir: str | Path = ".",
        *,
        train: bool = False,
        store_url: str | None = None,
        progress: bool = False,
    ) -> Agent:
        """Load a trained bot; with `train=True`, first (re)build whatever is stale."""
        bot = load_bot(bot_dir)
        store = Store(store_url or bot.store_url)
        encoder = Encoder(bot.config.encoder)
        stale = stale_artifacts(bot)
        if stale and train:
            build(bot, store=store, encoder=encoder, progress=progress)
        elif stale:
            store.close()
            raise BuildError(
                f"Bot '{bot.config.name}' is not trained or its build is stale ({', '.join(stale)}); "
                f"run `python -m agent train --bot {bot.path}`."
            )
        out = bot.build_path
        graph = KnowledgeGraph.load(out / "graph", bot.config.graph)
        classifier = IntentClassifier.load(out / "intents", bot.config.intents)
        faq_folder = out / "faq"
        if (faq_folder / "meta.json").is_file():
            faq = FaqIndex.load(faq_folder, bot.config.faq, encoder.fingerprint)
        else:
            faq = FaqIndex(encoder.dim, bot.config.faq, encoder.fingerprint)
        # The store is the source of truth: seed a new store from faq.yaml, and pick up
        # entries that other processes added or changed.
        store.seed_faqs(bot.faq_entries(), bot.digests["faq"])
        if faq.sync(store.faq_entries(), encoder.encode):
            faq.save(faq_folder)
        policy = Policy(bot.config, TemplateEngine(bot.templates, graph))
        steps: list[Step] = [encoder, classifier, faq, graph, Sentiment(), policy]
        return cls(bot, encoder, steps, faq, store)

    def close(self) -> None:
        self.store.close()

    # --- conversation -------------------------------------------------------

    def respond(self, session_id: str, text: str) -> Reply:
        """Answer one customer message in conversation `session_id`."""
        return self.respond_batch([(session_id, text)])[0]

    def respond_batch(self, messages: Sequence[tuple[str, str]]) -> list[Reply]:
        """Answer many (session_id, text) messages with one batched pass per step.

        Messages of the same session are answered in order. Every message is
        checked before any is processed, so a bad one stores nothing.
        """
        limit = self.config.limits.max_message_chars
        cleaned = [(check_session_id(sid), clean_message(text, limit)) for sid, text in messages]
        replies: list[Reply | None] = [None] * len(cleaned)
        # A wave holds each session at most once, so a later message sees the earlier one's state.
        waves: list[list[int]] = []
        depth: dict[str, int] = {}
        for i, (sid, _) in enumerate(cleaned):
            level = depth.get(sid, 0)
            depth[sid] = level + 1
            if level == len(waves):
                waves.append([])
            waves[level].append(i)
        for wave in waves:
            for i, reply in zip(wave, self._respond_wave([cleaned[i] for i in wave]), strict=True):
                replies[i] = reply
        return [r for r in replies if r is not None]

    def _respond_wave(self, messages: list[tuple[str, str]]) -> list[Reply]:
        states = self.store.load_states(sid for sid, _ in messages)
        turns = [Turn(session_id=sid, text=text, state=states.get(sid, SessionState())) for sid, text in messages]
        for step in self.steps:
            started = time.perf_counter()
            step(turns)
            share = (time.perf_counter() - started) * 1000 / len(turns)
            for turn in turns:
                turn.timings_ms[step.name] = round(share, 3)
        replies, records = [], []
        for turn in turns:
            reply = self._reply(turn)
            self._remember(turn.state, turn.text, reply.text)
            replies.append(reply)
            records.append(TurnRecord(customer_text=turn.text, reply=reply, state=turn.state))
        started = time.perf_counter()
        self.store.record(records)
        share = round((time.perf_counter() - started) * 1000 / len(turns), 3)
        for reply in replies:
            reply.timings_ms["store"] = share
            reply.timings_ms["total"] = round(sum(reply.timings_ms.values()), 3)
        return replies

    def _reply(self, turn: Turn) -> Reply:
        intent, decision = turn.intent, turn.decision
        assert intent is not None and decision is not None, "the intent and policy steps ran"
        return Reply(
            session_id=turn.session_id,
            text=decision.text,
            source=decision.source,
            reason=decision.reason,
            intent=decision.intent or intent.name,
            confidence=round(intent.confidence, 4),
            intents=intent.top,
            faq_hits=turn.faq_hits,
            entities=turn.graph.entities,
            facts=decision.facts,
            slots=decision.slots,
            sentiment=turn.sentiment,
            handoff=decision.handoff,
            timings_ms=dict(turn.timings_ms),
        )

    def _remember(self, state: SessionState, text: str, answer: str) -> None:
        keep = self.config.dialog.history_turns
        state.history = ([*state.history, ("customer", text), ("bot", answer)])[-keep:] if keep else []

    def conversation(self, session_id: str) -> ConversationRecord | None:
        """The stored transcript of a conversation, with each reply's trace."""
        return self.store.conversation(session_id)

    def end_conversation(self, session_id: str) -> bool:
        return self.store.end_conversation(session_id)

    # --- FAQ administration (the index follows live) ------------------------

    def faq_entries(self) -> list[FaqEntry]:
        return self.store.faq_entries()

    def add_faq(self, entry: FaqEntry) -> None:
        """Store a new FAQ entry and make it retrievable at once."""
        self.store.add_faq(entry)
        self.faq.upsert([entry], self.encoder.encode)
        self._save_faq()

    def update_faq(self, entry: FaqEntry) -> None:
        """Replace an entry (same id); its phrasings are re-encoded."""
        self.store.update_faq(entry)
        self.faq.upsert([entry], self.encoder.encode)
        self._save_faq()

    def delete_faq(self, faq_id: str) -> None:
        self.store.delete_faq(faq_id)
        self.faq.remove([faq_id])
        self._save_faq()

    def _save_faq(self) -> None:
        self.faq.save(self.bot.build_path / "faq")
