"""A reply as Server-Sent Events: `POST /v1/conversations/{id}/messages` with `Accept: text/event-stream`.

    event: delta                    the decoder's next piece of text, as it writes it (zero or more)
    data: {"text": "The Plus"}

    event: reply                    exactly one, last: the reply as the JSON endpoint returns it,
    data: {..ReplyOut.., "replace": false}   plus `replace`: true when the streamed text was refused by the
                                    guard and `text` differs from it (show `text` instead)

    event: error                    instead of `reply`, when the turn failed after the stream began
    data: {"error": "unavailable", "message": "one line"}

Without a decoder (or when it does not rewrite this answer: fallback, handoff,
a question for a slot) the stream is the `reply` event alone. Everything known
before the first event (401, 403, 409 ended, 413, 422, 429, a store failure) is
an ordinary JSON error response with its status code: the response starts only
when the first event exists. Each `data` is one line of JSON (framing by
FastAPI's `format_sse_event`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.sse import EventSourceResponse, format_sse_event

from agent.exceptions import MessageError, StoreError
from agent.http.batcher import Outcome
from agent.http.errors import STATUS_CODES, ApiError
from agent.http.models import ReplyOut
from agent.types import FinalReply, Reply, TextDelta

log = logging.getLogger("agent.http.sse")
MEDIA_TYPE = "text/event-stream"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # proxies (nginx) must not buffer the stream


def wants_stream(request: Request) -> bool:
    """True when the client asked for Server-Sent Events (`Accept: text/event-stream`)."""
    return MEDIA_TYPE in request.headers.get("accept", "").lower()


def event(name: str, data: dict[str, Any]) -> bytes:
    """One SSE event with a one-line JSON `data` field."""
    return format_sse_event(event=name, data_str=json.dumps(data, ensure_ascii=False, separators=(",", ":")))


def reply_event(final: FinalReply) -> bytes:
    return event("reply", {**ReplyOut.of(final.reply).model_dump(mode="json"), "replace": final.replace})


def error_event(exc: BaseException) -> bytes:
    """The `error` event of a turn that failed mid-stream: the same codes and one line as a JSON error."""
    if isinstance(exc, ApiError):
        code, message = exc.status, exc.message
    elif isinstance(exc, StoreError):
        code, message = 503, "the conversation store is unavailable; try again shortly"
    elif isinstance(exc, MessageError):
        code, message = 422, str(exc)
    else:
        incident = uuid.uuid4().hex[:10]
        log.error("internal error [%s] in a streamed reply", incident, exc_info=exc)
        code, message = 500, f"internal error (incident {incident}); the server log has the details"
    return event("error", {"error": STATUS_CODES.get(code, "error"), "message": " ".join(message.split())})


async def stream_response(
    events: asyncio.Queue[TextDelta | Outcome],
    settle: Callable[[Outcome], Reply],
    headers: dict[str, str],
) -> EventSourceResponse:
    """The SSE response of a queued turn; `settle` turns its outcome into the reply or raises the JSON error.

    Waits for the first event before answering, so whatever fails before anything was
    streamed (the conversation has ended, the store is down) is still a plain JSON error.
    """
    first = await events.get()
    if isinstance(first, Outcome):
        body: AsyncIterator[bytes] = _single(reply_event(FinalReply.of(settle(first), "")))
    else:
        body = _stream(first, events, settle)
    return EventSourceResponse(body, headers={**HEADERS, **headers})


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _stream(
    first: TextDelta, events: asyncio.Queue[TextDelta | Outcome], settle: Callable[[Outcome], Reply]
) -> AsyncIterator[bytes]:
    streamed = [first.text]
    yield event("delta", {"text": first.text})
    while True:
        item = await events.get()
        if isinstance(item, TextDelta):
            streamed.append(item.text)
            yield event("delta", {"text": item.text})
            continue
        try:
            reply = settle(item)
        except Exception as exc:  # the response has begun: the failure becomes the last event
            yield error_event(exc)
            return
        yield reply_event(FinalReply.of(reply, "".join(streamed)))
        return
