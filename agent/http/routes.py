"""The /v1 endpoints: conversations, FAQ administration (admin scope), health, readiness, metrics.

POST   /v1/conversations                 open one (widget, chat or admin key) -> id, token, greeting (201)
POST   /v1/conversations/{id}/messages   {"text": ..., "seq": n (optional)} -> the reply with its trace;
                                         SSE with Accept: text/event-stream
GET    /v1/conversations/{id}            the transcript, oldest turn first (personal data masked)
POST   /v1/conversations/{id}/end        end it; later messages get 409
POST   /v1/conversations/{id}/feedback   {"seq": n, "rating": "up"|"down", "comment": ...}: rate reply n

A conversation's routes take its token or a chat/admin key (agent/http/access.py).
GET    /v1/faq                           every FAQ entry              (admin)
POST   /v1/faq                           add one; retrievable at once (admin)
GET|PUT|DELETE /v1/faq/{faq_id}          read, replace, delete one    (admin)
GET    /v1/health  /v1/ready  /v1/metrics   no key needed

Every store failure is 503 (one handler, agent/http/errors.py); /v1/ready tries what a message needs.
"""

# No `from __future__ import annotations` here: the message model is built per server, and FastAPI
# reads the route signatures' annotations as objects.
import logging
import os
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from agent.bot.schemas import FAQ_ID, FaqEntry
from agent.exceptions import FaqError, StoreError
from agent.http.access import Access, Caller
from agent.http.auth import Principal
from agent.http.batcher import Outcome, TurnBatcher
from agent.http.errors import ApiError
from agent.http.metrics import Metrics
from agent.http.models import (
    CONVERSATION_ID,
    CONVERSATION_ID_RULE,
    ERRORS,
    ConversationIn,
    ConversationOpened,
    ConversationOut,
    EndedOut,
    ErrorOut,
    FaqCreate,
    FaqIn,
    FaqListOut,
    FeedbackIn,
    FeedbackOut,
    HealthOut,
    ReadyOut,
    ReplyOut,
    message_model,
    replayed,
)
from agent.http.sse import MEDIA_TYPE, stream_response, wants_stream
from agent.http.webhook import WebhookSender
from agent.pipeline.dialog import Agent
from agent.pipeline.messages import clean_message
from agent.types import Reply

log = logging.getLogger("agent.http")


@dataclass
class Services:
    """What the routes use, built once per app by `create_app`."""

    agent: Agent
    batcher: TurnBatcher
    webhook: WebhookSender
    metrics: Metrics
    access: Access


T = TypeVar("T")


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    extra = {
        404: {"model": ErrorOut, "description": "no such conversation or FAQ entry"},
        409: {
            "model": ErrorOut,
            "description": "conflict: conversation ended, a message `seq` came after a higher one, or FAQ id taken",
        },
        503: {"model": ErrorOut, "description": "the store is unavailable"},
    }
    return {**ERRORS, **{code: extra[code] for code in codes}}


def _documented(model: Any, tag: str, summary: str, *codes: int) -> dict[str, Any]:
    """The OpenAPI keywords of a route: response model, its error responses, tag and summary."""
    return {"response_model": model, "responses": _responses(*codes), "tags": [tag], "summary": summary}


def build_router(s: Services) -> APIRouter:
    """All /v1 routes, bound to one app's services."""
    router = APIRouter(prefix="/v1")
    limit = s.agent.config.limits.max_message_chars
    message_in = message_model(limit)
    conversation_id = Annotated[str, Path(pattern=CONVERSATION_ID, description=CONVERSATION_ID_RULE)]
    faq_id = Annotated[str, Path(pattern=FAQ_ID, max_length=120, description="lowercase letters, digits and '-'")]
    opener = Annotated[Caller, Depends(s.access.opener())]
    talk = Annotated[Caller, Depends(s.access.conversation(message=True))]
    reader = Annotated[Caller, Depends(s.access.conversation(message=False))]
    admin = Annotated[Principal, Depends(s.access.require("admin"))]

    def settle(outcome: Outcome, conversation: str) -> Reply:
        """The reply of a turn (for a number answered before, the stored one: nothing is stored again), or
        the error it ended in; a handoff is announced on the webhook."""
        if outcome.stored is not None:
            return replayed(conversation, outcome.stored)
        if outcome.ended:
            raise ApiError(409, f"conversation '{conversation}' has ended; start a new conversation")
        if outcome.error is not None:
            raise outcome.error
        assert outcome.reply is not None
        if outcome.handoff is not None:
            s.webhook.submit(outcome.handoff)
        return outcome.reply

    # --- conversations ------------------------------------------------------------

    @router.post(
        "/conversations",
        status_code=201,
        **_documented(
            ConversationOpened, "conversations", "Open a conversation: its new id, its token and the greeting", 503
        ),
    )
    async def open_conversation(_: opener, body: Annotated[ConversationIn | None, Body()] = None) -> ConversationOpened:
        opened = await run_in_threadpool(s.agent.start_conversation)
        issued = s.access.tokens.issue(opened) if s.access.tokens is not None else None
        return ConversationOpened(
            conversation_id=opened,
            token=issued.token if issued else None,
            expires_at=issued.expires_at if issued else None,
            greeting=s.agent.config.persona.greeting,
        )

    messages_doc = _documented(
        ReplyOut, "conversations", "Send a customer message; get the bot's reply and its trace", 409, 503
    )
    messages_doc["responses"][200] = {
        "description": "the reply; with `Accept: text/event-stream`, Server-Sent Events (`delta`* then `reply`)",
        "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
    }

    @router.post("/conversations/{conversation_id}/messages", **messages_doc)
    async def post_message(
        conversation_id: conversation_id,  # type: ignore[valid-type]
        body: message_in,  # type: ignore[valid-type]
        _: talk,
        request: Request,
        response: Response,
    ) -> Any:
        text = clean_message(body.text, limit)  # control characters out; empty -> 422
        if wants_stream(request):
            events = await s.batcher.submit_stream(conversation_id, text, body.seq)
            return await stream_response(events, lambda outcome: settle(outcome, conversation_id), {})
        outcome = await s.batcher.submit(conversation_id, text, body.seq)
        reply = settle(outcome, conversation_id)
        if outcome.stored is not None:  # this number was answered before: the same reply, nothing stored
            response.headers["X-Agent-Replayed"] = "true"
        return ReplyOut.of(reply)

    @router.get(
        "/conversations/{conversation_id}",
        **_documented(ConversationOut, "conversations", "A conversation's transcript, in order", 404, 503),
    )
    async def get_conversation(conversation_id: conversation_id, _: reader) -> ConversationOut:  # type: ignore[valid-type]
        record = await run_in_threadpool(s.agent.conversation, conversation_id)
        return ConversationOut.of(_found(record, f"no conversation '{conversation_id}'"))

    @router.post(
        "/conversations/{conversation_id}/end", **_documented(EndedOut, "conversations", "End a conversation", 404, 503)
    )
    async def end_conversation(conversation_id: conversation_id, _: reader) -> EndedOut:  # type: ignore[valid-type]
        _found(
            await run_in_threadpool(s.agent.end_conversation, conversation_id), f"no conversation '{conversation_id}'"
        )
        return EndedOut(conversation_id=conversation_id)

    @router.post(
        "/conversations/{conversation_id}/feedback",
        **_documented(FeedbackOut, "conversations", "Rate one of the bot's replies (thumbs up or down)", 404, 503),
    )
    async def rate_reply(conversation_id: conversation_id, body: FeedbackIn, _: reader) -> FeedbackOut:  # type: ignore[valid-type]
        kept = await run_in_threadpool(s.agent.rate, conversation_id, body.seq, body.rating, body.comment)
        s.metrics.feedback.labels(body.rating).inc()
        return FeedbackOut(
            conversation_id=conversation_id,
            seq=body.seq,
            feedback=_found(kept, f"no conversation '{conversation_id}'"),
        )

    # --- FAQ administration (changes run on the agent thread, between batches) ------

    @router.get("/faq", response_model=FaqListOut, responses=_responses(503), tags=["faq"], summary="Every FAQ entry")
    async def list_faq(_: admin) -> FaqListOut:
        entries = await run_in_threadpool(s.agent.faq_entries)
        return FaqListOut(count=len(entries), entries=entries)

    @router.get("/faq/{faq_id}", response_model=FaqEntry, responses=_responses(404, 503), tags=["faq"])
    async def get_faq(faq_id: faq_id, _: admin) -> FaqEntry:  # type: ignore[valid-type]
        return _found(await run_in_threadpool(s.agent.store.faq_entry, faq_id), f"no FAQ entry '{faq_id}'")

    @router.post(
        "/faq",
        status_code=201,
        response_model=FaqEntry,
        responses=_responses(409, 503),
        tags=["faq"],
        summary="Add a FAQ entry (answers at once, in every worker)",
    )
    async def add_faq(body: FaqCreate, _: admin) -> FaqEntry:
        entry = body.entry()
        await s.batcher.run(s.agent.add_faq, entry)  # FaqError (id taken) -> 409
        return entry

    @router.put("/faq/{faq_id}", response_model=FaqEntry, responses=_responses(404, 409, 503), tags=["faq"])
    async def update_faq(faq_id: faq_id, body: FaqIn, _: admin) -> FaqEntry:  # type: ignore[valid-type]
        entry = body.entry(faq_id)
        _found(await s.batcher.run(_change, s.agent, "update", entry), f"no FAQ entry '{faq_id}'")
        return entry

    @router.delete("/faq/{faq_id}", status_code=204, responses=_responses(404, 409, 503), tags=["faq"])
    async def delete_faq(faq_id: faq_id, _: admin) -> Response:  # type: ignore[valid-type]
        _found(await s.batcher.run(_change, s.agent, "delete", faq_id), f"no FAQ entry '{faq_id}'")
        return Response(status_code=204)

    # --- operations (no key: they carry no customer data) --------------------------

    @router.get("/health", response_model=HealthOut, tags=["operations"], summary="Liveness")
    async def health() -> HealthOut:
        return HealthOut(worker=os.getpid())

    @router.get(
        "/ready",
        response_model=ReadyOut,
        responses={503: {"model": ReadyOut, "description": "the store cannot be read or written, or not locked"}},
        tags=["operations"],
        summary="Readiness: the bot is loaded, and its store can be read, written and locked as a message needs",
    )
    async def ready() -> Any:
        try:
            await run_in_threadpool(s.agent.store.check)
        except StoreError as exc:
            log.warning("not ready: %s", exc)  # the reason names paths and URLs: for the log, not the answer
            return JSONResponse(ReadyOut(status="not ready", store="unavailable", faq_entries=0).model_dump(), 503)
        return ReadyOut(status="ready", store="ok", faq_entries=len(s.agent.faq))

    @router.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
    )
    async def metrics() -> Response:
        body, content_type = await run_in_threadpool(s.metrics.render)
        return Response(body, media_type=content_type)

    return router


def _found(value: T | None, missing: str) -> T:
    """`value`, or a 404 saying what is `missing` when there is none (None, or False for "did not exist")."""
    if value is None or value is False:
        raise ApiError(404, missing)
    return value


def _change(agent: Agent, action: str, value: Any) -> bool:
    """Update or delete a FAQ entry on the agent thread; False when it does not exist."""
    faq = value.id if isinstance(value, FaqEntry) else value
    if agent.store.faq_entry(faq) is None:
        return False
    try:
        if action == "update":
            agent.update_faq(value)
        else:
            agent.delete_faq(faq)
    except FaqError:
        return False  # another worker removed it in between
    return True
