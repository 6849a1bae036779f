"""The dialog manager: runs the steps on a batch of turns, applies the policy, stores the result.

    agent = Agent.load("path/to/bot")          # a trained bot (`python -m agent train`)
    reply = agent.respond("session-1", "how much is a cash withdrawal abroad?")
    print(reply.text, reply.source, reply.intent, reply.confidence)

    for event in agent.respond_stream("session-1", "and at home?"):   # the decoder's text as it is written
        if isinstance(event, TextDelta):
            print(event.text, end="", flush=True)
        else:                                                          # FinalReply, always last
            print("\n" + event.reply.text if event.replace else "")

`Agent` composes step objects (`Step` protocol in agent.types); it never looks
anything up by name. Session state lives in the store, so any process sharing
the store can answer the next message of a conversation. It never trains:
`agent.training.load_trained` builds what is stale first.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from agent.bot.folder import BotFolder
from agent.bot.schemas import FaqEntry
from agent.exceptions import BuildError
from agent.pipeline.artifacts import runtime_encoder_config, stale_for_loading
from agent.pipeline.assemble import load_bot, load_steps
from agent.pipeline.messages import check_session_id, clean_message
from agent.pipeline.privacy import Masker
from agent.steps.encoder import Encoder, encoder_fingerprint
from agent.steps.faq import FaqIndex
from agent.steps.patterns import PatternFinder
from agent.storage.store import ConversationRecord, Store, TurnRecord
from agent.types import (
    Feedback,
    FinalReply,
    Rating,
    Reply,
    SessionState,
    Step,
    StreamEvent,
    TextDelta,
    TextSink,
    Turn,
)

S = TypeVar("S")


class Agent:
    """A loaded bot: its pipeline steps (policy included) and its store."""

    def __init__(self, bot: BotFolder, steps: Sequence[Step], store: Store) -> None:
        self.bot = bot
        self.config = bot.config
        self.steps = list(steps)
        self.encoder = self.step(Encoder)
        self.faq = self.step(FaqIndex)
        self.store = store
        self.masker = Masker.for_bot(bot.config)
        self.patterns = self.step(PatternFinder)
        self._faq_revision: str | None = None  # the store's FAQ revision the index last matched

    @classmethod
    def load(
        cls,
        bot_dir: str | Path = ".",
        *,
        store_url: str | None = None,
        decoder: bool = True,
        encoder: Encoder | None = None,
    ) -> Agent:
        """Load a trained bot; raises BuildError when its build is missing or stale.

        `decoder=False` leaves the decoder step out even when bot.yaml enables it;
        `encoder` reuses an already loaded encoder when it has the run-time weights.
        """
        bot = load_bot(bot_dir)
        stale = stale_for_loading(bot, decoder)
        if stale:
            raise BuildError(
                f"Bot '{bot.config.name}' is not trained or its build is stale ({', '.join(stale)}); "
                f"run `python -m agent train --bot {bot.path}`."
            )
        store = Store(store_url or bot.store_url)
        try:
            return cls.assemble(bot, store, encoder=encoder, decoder=decoder)
        except BaseException:
            store.close()
            raise

    @classmethod
    def assemble(cls, bot: BotFolder, store: Store, *, encoder: Encoder | None = None, decoder: bool = True) -> Agent:
        """The pipeline of an already built `bot` over an open `store` (`close()` closes that store)."""
        runtime = runtime_encoder_config(bot.config, bot.build_path)
        if encoder is None or encoder.fingerprint != encoder_fingerprint(runtime):
            # intents.finetune is on: every step reads the tuned encoder that `train` saved in the build.
            encoder = Encoder(runtime)
        agent = cls(bot, load_steps(bot, encoder, decoder=decoder), store)
        # The store is the source of truth: seed a new store from faq.yaml, and pick up
        # entries that other processes added or changed.
        store.seed_faqs(bot.faq_entries(), bot.digests["faq"])
        if agent.faq.sync(store.faq_entries(), encoder.encode):
            agent._save_faq()
        return agent

    def close(self) -> None:
        self.store.close()

    def step(self, kind: type[S]) -> S:
        """The pipeline step of class `kind`, e.g. `agent.step(KnowledgeGraph)`."""
        for step in self.steps:
            if isinstance(step, kind):
                return step
        raise LookupError(f"this agent has no {kind.__name__} step")

    # --- conversation -------------------------------------------------------

    def respond(self, session_id: str, text: str) -> Reply:
        """Answer one customer message in conversation `session_id`."""
        return self.respond_batch([(session_id, text)])[0]

    def respond_stream(self, session_id: str, text: str) -> Iterator[StreamEvent]:
        """Answer one message, yielding the decoder's text as it is written, then the `FinalReply`.

        Without a decoder (or when it does not rewrite this answer) the only event is the
        `FinalReply`. The turn runs on a thread of its own; a caller that stops reading early
        does not stop it: the turn is still answered and stored. Errors are raised from here.
        """
        events: queue.SimpleQueue[TextDelta | Reply | BaseException] = queue.SimpleQueue()

        def run() -> None:
            try:
                events.put(self.respond_batch([(session_id, text)], [lambda piece: events.put(TextDelta(piece))])[0])
            except BaseException as exc:  # handed to the reading thread, which raises it
                events.put(exc)

        threading.Thread(target=run, name="agent-stream", daemon=True).start()
        streamed: list[str] = []
        while True:
            event = events.get()
            if isinstance(event, BaseException):
                raise event
            if isinstance(event, Reply):
                yield FinalReply.of(event, "".join(streamed))
                return
            streamed.append(event.text)
            yield event

    def respond_batch(
        self,
        messages: Sequence[tuple[str, str]],
        streams: Sequence[TextSink | None] | None = None,
        client_seqs: Sequence[int | None] | None = None,
    ) -> list[Reply]:
        """Answer many (session_id, text) messages with one batched pass per step.

        Messages of the same session are answered in order. Every message is
        checked before any is processed, so a bad one stores nothing. `streams`, one
        per message (None for most), receive the decoder's text as it is written.
        `client_seqs` (the HTTP API's `seq`, one per message or None) are stored
        with the turns, in the same transaction.
        """
        limit = self.config.limits.max_message_chars
        sinks = list(streams) if streams is not None else [None] * len(messages)
        if len(sinks) != len(messages):
            raise ValueError(f"{len(sinks)} streams for {len(messages)} messages")
        cleaned = [(check_session_id(sid), clean_message(text, limit)) for sid, text in messages]
        numbers = list(client_seqs) if client_seqs is not None else [None] * len(cleaned)
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
        # The whole turn (load state, steps, record) runs under each conversation's lock, so turns of
        # one conversation never interleave, also across processes sharing the store.
        with self.store.conversation_lock(*depth):
            for wave in waves:
                answered = self._respond_wave(
                    [cleaned[i] for i in wave], [sinks[i] for i in wave], [numbers[i] for i in wave]
                )
                for i, reply in zip(wave, answered, strict=True):
                    replies[i] = reply
        return [r for r in replies if r is not None]

    def annotate(
        self,
        messages: Sequence[tuple[str, str]],
        states: dict[str, SessionState] | None = None,
        streams: Sequence[TextSink | None] | None = None,
    ) -> list[Turn]:
        """Run every step on cleaned (session_id, text) messages and return the turns; stores nothing.

        Sessions missing from `states` start fresh. Training and evaluation use this directly.
        """
        states = states or {}
        sinks = list(streams) if streams is not None else [None] * len(messages)
        turns = [
            Turn(session_id=sid, text=text, state=states.get(sid, SessionState()), stream=sink)
            for (sid, text), sink in zip(messages, sinks, strict=True)
        ]
        for step in self.steps:
            started = time.perf_counter()
            step(turns)
            share = (time.perf_counter() - started) * 1000 / len(turns)
            for turn in turns:
                turn.timings_ms[step.name] = round(share, 3)
        return turns

    def warm_up(self) -> None:
        """Run every step once on a throwaway message; stores nothing.

        The first turn through a fresh process pays for lazy start-up (torch's first forward pass,
        first-call imports): about half a second here. A server worker warms up before it takes
        requests, so its first customer does not wait, and while it would hold the GIL its event
        loop is not yet reading requests that other workers could have ordered after it.
        """
        self.annotate([("warm-up", "hello")])

    def _respond_wave(
        self, messages: list[tuple[str, str]], streams: list[TextSink | None], client_seqs: list[int | None]
    ) -> list[Reply]:
        turns = self.annotate(messages, self.store.load_states(sid for sid, _ in messages), streams)
        replies, records = [], []
        for turn, client_seq in zip(turns, client_seqs, strict=True):
            reply = self._reply(turn)
            # Kept data is masked (bot.yaml `privacy:`, personal `patterns:`); the caller gets the reply as written.
            customer_text, stored = self._kept(turn, reply)
            turn.state.remember(customer_text, stored.text, self.config.dialog.history_turns)
            replies.append(reply)
            records.append(
                TurnRecord(customer_text=customer_text, reply=stored, state=turn.state, client_seq=client_seq)
            )
        # The store adds its own share and the total to each trace it keeps; the caller's get the same.
        for reply, record in zip(replies, self.store.record(records), strict=True):
            reply.timings_ms = dict(record.timings_ms)
        return replies

    def _kept(self, turn: Turn, reply: Reply) -> tuple[str, Reply]:
        """The customer's text and the reply as they are stored: personal data masked.

        The masker holds the bot's personal patterns too; the values of them the session holds from
        earlier turns are masked wherever this turn repeats one. The session state itself keeps the last
        value of each pattern while the conversation goes on, since later replies use it.
        """
        known = self.patterns.personal_values(turn.state.values)
        customer_text = self.masker.mask(turn.text)
        earlier = self.masker.scrubber("", known)  # None when the session holds none
        if earlier is not None:
            customer_text = earlier(customer_text)
        return customer_text, self.masker.mask_reply(reply, turn.text, known)

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
            passages=turn.doc_hits,
            entities=turn.graph.entities,
            values=turn.patterns,
            facts=decision.facts,
            slots=decision.slots,
            sentiment=turn.sentiment,
            handoff=decision.handoff,
            decoder=turn.decoder,
            context=turn.context,
            timings_ms=dict(turn.timings_ms),
        )

    def conversation(self, session_id: str) -> ConversationRecord | None:
        """The stored transcript of a conversation, with each reply's trace."""
        return self.store.conversation(session_id)

    def start_conversation(self) -> str:
        """Open a conversation under a new random id (`c-` and 24 URL-safe characters) and return the id."""
        while True:
            session_id = f"c-{secrets.token_urlsafe(18)}"
            if self.store.create_conversation(session_id):
                return session_id

    def end_conversation(self, session_id: str) -> bool:
        return self.store.end_conversation(session_id)

    def rate(self, session_id: str, seq: int, rating: Rating, comment: str | None = None) -> Feedback | None:
        """Keep a verdict on the reply numbered `seq` (a new one replaces it); None: no such conversation.

        The comment is masked like every kept text (a customer may paste a card number into it). Raises
        FeedbackError when `seq` is not one of the conversation's replies.
        """
        kept = self.masker.mask(comment.strip()) if comment and comment.strip() else None
        return self.store.rate(session_id, seq, rating, kept)

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

    def refresh_faq(self) -> bool:
        """Pick up FAQ changes made by other processes sharing the store; one cheap read when none."""
        revision = self.store.faq_revision()
        if revision == self._faq_revision:
            return False
        # Read the revision before the entries: a change landing in between only causes one more sync.
        self.faq.sync(self.store.faq_entries(), self.encoder.encode)
        self._faq_revision = revision
        return True

    def _save_faq(self) -> None:
        self.faq.save(self.bot.build_path / FaqIndex.artifact)
