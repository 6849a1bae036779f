"""Refuse request bodies over `http.max_body_bytes` with 413 before anything parses them.

A declared Content-Length over the limit is refused at once; a chunked body is
counted as it arrives and refused as soon as it passes the limit, so a huge
upload never reaches memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from agent.http.errors import error_response

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _TooLarge(HTTPException):
    """Raised while the body streams in; an HTTPException so the framework's body parser passes it through."""


class BodyLimitMiddleware:
    """Pure ASGI middleware enforcing a maximum request body size."""

    def __init__(self, app: Callable[[Message, Receive, Send], Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self, size: int | None) -> str:
        got = f"is {size:,} bytes" if size is not None else "passed the limit"
        return f"request body {got}; the limit is {self.max_bytes:,} bytes (bot.yaml http.max_body_bytes)"

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await error_response(413, self._message(declared))(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(413, self._message(None))
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await error_response(413, self._message(None))(scope, receive, send)


def _content_length(scope: Message) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
