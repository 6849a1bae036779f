"""Micro-batching of customer messages, answered in arrival order on one agent thread per worker.

Each request takes an arrival ticket (agent/storage/arrival.py: what "arrival"
means, and the client's own numbers, `seq`) on the worker's ticket thread the
moment it is read, puts its message on an asyncio queue and waits. One loop
takes the first message and everything queued behind it (up to `max_batch`)
and answers them with one `Agent.respond_batch` call on the agent's own thread.
Nothing waits for a batch to fill, so a lone message is answered at once, and
under load each step runs once for many conversations.

Order: within a worker the queue is first in, first out; across workers a
message waits (deferred to the next pass) while a message before it is still
unanswered in another live worker, or while a lower client number has not
arrived yet; and `respond_batch` runs each conversation's turns under the
store's cross-process conversation lock. A client number already answered gets
its stored reply back (`Outcome.stored`) and stores nothing; one that comes
after a higher number was answered is refused (409).
FAQ administration runs on the same thread (`run`), so the FAISS index never
changes under a search.

A streamed message (`submit_stream`) takes exactly the same path: the same
ticket, the same queue, batched with whatever else is waiting, under the same
conversation lock. Only its listener differs: the decoder's text for it is
passed from the agent thread to the event loop (`call_soon_threadsafe`) while
the batch generates, and the outcome follows last, in that order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from agent.exceptions import AgentError, MessageError, StoreError
from agent.http.errors import ApiError
from agent.http.metrics import Metrics
from agent.http.webhook import HandoffEvent
from agent.pipeline.dialog import Agent
from agent.storage.arrival import ArrivalTickets, Ticket
from agent.storage.handoffs import HandoffClaims
from agent.storage.store import StoredTurn
from agent.types import Reply, TextDelta, TextSink

log = logging.getLogger("agent.http.batcher")
T = TypeVar("T")
DEFER_PAUSE_S = 0.005  # when every queued message waits for another worker, do not spin


@dataclass
class Outcome:
    """What one message got: a reply (and a handoff event to announce), the stored reply of a retry, or why not."""

    reply: Reply | None = None
    stored: StoredTurn | None = None  # its client number was answered before: that reply, nothing new stored
    error: Exception | None = None
    ended: bool = False  # the conversation was ended before this message
    handoff: HandoffEvent | None = None


@dataclass
class _Job:
    ticket: Ticket
    text: str
    future: asyncio.Future[Outcome] = field(repr=False)
    stream: TextSink | None = field(default=None, repr=False)

    @property
    def conversation_id(self) -> str:
        return self.ticket.conversation_id

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.ticket.conversation_id, self.ticket.seq)


@dataclass
class _Gate:
    """The arrival lock of one conversation and how many requests are using it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class TurnBatcher:
    """Answers messages in arrival order, batching whatever is waiting."""

    def __init__(
        self, agent: Agent, metrics: Metrics, max_batch: int, claims: HandoffClaims, tickets: ArrivalTickets
    ) -> None:
        self.agent = agent
        self.metrics = metrics
        self.max_batch = max_batch
        self.claims = claims
        self.tickets = tickets
        self._executor: ThreadPoolExecutor | None = None
        self._ticket_thread: ThreadPoolExecutor | None = None
        self._queue: asyncio.Queue[_Job] | None = None
        self._deferred: list[_Job] = []
        self._arrivals: dict[str, _Gate] = {}
        self._loop_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agent-turns")
        # Tickets are taken on a thread (and connection) of their own: a busy agent thread or pool
        # never delays them, and a database that hangs never blocks the event loop.
        self._ticket_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="agent-tickets")
        self._queue = asyncio.Queue()
        self._deferred = []
        self._loop_task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Answer what is queued, then stop the loop and the agent thread."""
        if self._queue is not None:
            await self._queue.join()
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        if self._ticket_thread is not None:
            self._ticket_thread.submit(self.tickets.close).result()
            self._ticket_thread.shutdown(wait=True)
        self._queue = self._loop_task = self._executor = self._ticket_thread = None

    async def submit(self, conversation_id: str, text: str, seq: int | None = None) -> Outcome:
        """Take an arrival ticket, queue the message and wait for its outcome; `seq` is the client's number."""
        future = await self._enqueue(conversation_id, text, None, seq)
        # shield: a client that disconnects does not cancel the turn; it is answered and stored anyway.
        return await asyncio.shield(future)

    async def submit_stream(
        self, conversation_id: str, text: str, seq: int | None = None
    ) -> asyncio.Queue[TextDelta | Outcome]:
        """Queue the message like `submit`; the queue returned gets its text deltas, then its `Outcome` last.

        Nothing cancels the turn once queued: a reader that goes away leaves it to be answered and stored.
        """
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[TextDelta | Outcome] = asyncio.Queue()

        def sink(piece: str) -> None:  # on the agent thread
            with contextlib.suppress(RuntimeError):  # the loop closed under a turn still generating
                loop.call_soon_threadsafe(events.put_nowait, TextDelta(piece))

        future = await self._enqueue(conversation_id, text, sink, seq)
        # The outcome is set on the loop after every delta of the batch was scheduled, so it comes last.
        future.add_done_callback(lambda done: events.put_nowait(done.result()))
        return events

    async def _enqueue(
        self, conversation_id: str, text: str, stream: TextSink | None, seq: int | None
    ) -> asyncio.Future[Outcome]:
        assert self._queue is not None, "start() the batcher first"
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        # asyncio locks wake waiters first come, first served: messages of one conversation that this worker
        # read in some order take their tickets and join the queue in that order.
        gate = self._arrivals.setdefault(conversation_id, _Gate())
        gate.users += 1
        try:
            async with gate.lock:
                # StoreError -> 503
                ticket = await loop.run_in_executor(self._ticket_thread, self.tickets.take, conversation_id, seq)
                self._queue.put_nowait(_Job(ticket, text, future, stream))
        finally:
            gate.users -= 1
            if not gate.users:
                del self._arrivals[conversation_id]  # nobody else arriving: keep the map small
        return future

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` on the agent thread, between batches (FAQ changes, index refresh)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            jobs, self._deferred = self._deferred, []
            if not jobs:
                jobs.append(await self._queue.get())
            while len(jobs) < self.max_batch and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                answered, deferred = await loop.run_in_executor(self._executor, self._answer, jobs)
            except Exception as exc:  # a bug must fail these requests, not the loop
                log.exception("batch of %d messages failed", len(jobs))
                answered, deferred = [(job, Outcome(error=exc)) for job in jobs], []
            for job, outcome in answered:
                if not job.future.done():
                    job.future.set_result(outcome)
                self._queue.task_done()
            self._deferred = deferred
            if deferred and not answered:
                await asyncio.sleep(DEFER_PAUSE_S)

    # --- on the agent thread --------------------------------------------------

    def _answer(self, jobs: list[_Job]) -> tuple[list[tuple[_Job, Outcome]], list[_Job]]:
        """Answer the jobs whose turn it is; return (job, outcome) pairs and the jobs deferred."""
        try:
            numbered = {job.conversation_id for job in jobs if job.ticket.seq is not None}
            answered = self.agent.store.answered_seqs(numbered) if numbered else {}
            ready = self.tickets.ready([job.ticket for job in jobs], answered)
            now: list[_Job] = []
            later: list[_Job] = []
            taken: set[tuple[str, int | None]] = set()
            for job in sorted(jobs, key=lambda job: job.ticket.rank):
                if job.ticket.id in ready and (job.ticket.seq is None or job.key not in taken):
                    now.append(job)
                    taken.add(job.key)
                else:
                    later.append(job)  # not its turn, or a retry of a number answered in this very batch
            if not now:
                return [], later
            self.metrics.batch_size.observe(len(now))
            self.agent.refresh_faq()  # FAQ edits made by other workers
            statuses = self.agent.store.conversation_statuses(job.conversation_id for job in now)
            # Numbers at or below the highest answered: a retry (its reply is stored) or too late.
            repeated = {
                job.ticket.id: (job.conversation_id, job.ticket.seq)
                for job in now
                if job.ticket.seq is not None and job.ticket.seq <= answered.get(job.conversation_id, 0)
            }
            stored = self.agent.store.sequenced_replies(repeated.values())
        except StoreError as exc:
            self._return_tickets(jobs)
            return [(job, Outcome(error=exc)) for job in jobs], []
        outcomes = [Outcome(ended=statuses.get(job.conversation_id) == "ended") for job in now]
        for job, outcome in zip(now, outcomes, strict=True):
            if job.ticket.id in repeated:
                outcome.ended = False
                outcome.stored = stored.get(repeated[job.ticket.id])
                if outcome.stored is None:
                    highest = answered[job.conversation_id]
                    outcome.error = ApiError(
                        409,
                        f"message seq {job.ticket.seq} of conversation '{job.conversation_id}' arrived after "
                        f"seq {highest} was answered; it was not stored",
                    )
        live = [i for i, outcome in enumerate(outcomes) if not (outcome.ended or outcome.stored or outcome.error)]
        try:
            results = self._respond([now[i] for i in live])
        except Exception as exc:  # a bug fails these messages only, not the deferred ones
            log.exception("batch of %d messages failed", len(live))
            results = [exc for _ in live]
        self._return_tickets(now)
        for i, result in zip(live, results, strict=True):
            if isinstance(result, Exception):
                outcomes[i].error = result
            else:
                outcomes[i].reply = result
                self.metrics.observe_reply(result)
                if result.handoff:
                    outcomes[i].handoff = self._announce(result)
        return list(zip(now, outcomes, strict=True)), later

    def _return_tickets(self, jobs: list[_Job]) -> None:
        try:
            self.tickets.done(job.ticket for job in jobs)
        except StoreError:
            log.exception("could not return %d arrival ticket(s); they expire on their own", len(jobs))

    def _respond(self, jobs: list[_Job]) -> list[Reply | Exception]:
        if len(jobs) > 1:
            try:
                return list(
                    self.agent.respond_batch(
                        [(j.conversation_id, j.text) for j in jobs],
                        [j.stream for j in jobs],
                        client_seqs=[j.ticket.seq for j in jobs],
                    )
                )
            except MessageError:
                pass  # one bad message fails the whole batch before anything is stored: answer each alone
            except AgentError as exc:
                return [exc for _ in jobs]
        results: list[Reply | Exception] = []
        for job in jobs:
            try:
                reply = self.agent.respond_batch(
                    [(job.conversation_id, job.text)], [job.stream], client_seqs=[job.ticket.seq]
                )[0]
                results.append(reply)
            except AgentError as exc:
                results.append(exc)
        return results

    def _announce(self, reply: Reply) -> HandoffEvent | None:
        """The handoff event for a conversation handed over just now (None if already announced)."""
        try:
            if not self.claims.claim(reply.session_id):
                return None
            self.metrics.handoffs.inc()
            record = self.agent.conversation(reply.session_id)
        except Exception:  # announcing must never cost the customer the reply
            log.exception("could not record the handoff of %s", reply.session_id)
            return None
        return HandoffEvent.of(record, reply.reason) if record is not None else None
