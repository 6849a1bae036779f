"""Every error the API returns is JSON, `{"error": code, "message": one line}`, and never a stack trace.

Validation errors name the field and the rule ("body.text: the message is 2,345
characters; the limit is 2,000"); a body that is not UTF-8 JSON is one of them
(422, never an undocumented 400). Store failures (every StoreError, whichever
route) become 503 without the database URL or any path; a method a path does
not serve is 405 with `Allow` listing every method it does; anything
unexpected becomes 500 with an id that the server log repeats next to the details.
"""

import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agent.exceptions import FaqError, FeedbackError, MessageError, StoreError
from agent.http.models import CONVERSATION_ID_RULE, FAQ_TEXT, FAQ_TEXT_RULE

log = logging.getLogger("agent.http")
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


HTTP_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


class ApiError(Exception):
    """An error answer chosen by a route: status, code and one line, plus optional headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"error": STATUS_CODES.get(status, "error"), "message": message}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def describe_validation(errors: Sequence[Mapping[str, Any]], max_chars: int) -> str:
    """One line for pydantic/FastAPI validation errors: the first problem, and how many more there are."""
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ())]
    where = ".".join(loc) or "request"
    kind = first.get("type", "")
    ctx = first.get("ctx") or {}
    value = first.get("input")
    if kind == "string_too_long" and loc == ["body", "text"] and isinstance(value, str):
        line = (
            f"body.text: the message is {len(value):,} characters; the limit is {max_chars:,} "
            "(bot.yaml limits.max_message_chars)"
        )
    elif kind == "string_too_long":
        line = f"{where}: too long (at most {ctx.get('max_length')} characters)"
    elif kind == "json_invalid":
        line = f"body: invalid JSON ({ctx.get('error', 'cannot parse')})"
    elif loc == ["body"] and kind in ("model_attributes_type", "model_type", "dict_type"):
        line = "body: expected a JSON object, sent with Content-Type: application/json"
    elif kind == "extra_forbidden":
        line = f"{where}: unknown field"
    elif kind == "missing":
        line = f"{where}: field required"
    elif kind == "string_pattern_mismatch" and loc[-1:] == ["conversation_id"]:
        line = f"{where}: must be {CONVERSATION_ID_RULE}"
    elif kind == "string_pattern_mismatch" and ctx.get("pattern") == FAQ_TEXT:
        line = f"{where}: {FAQ_TEXT_RULE}"
    else:
        line = f"{where}: {first.get('msg', 'invalid value')}"
    line = " ".join(line.split())  # one line, whatever the parser said
    return line if len(errors) == 1 else f"{line} (and {len(errors) - 1} more problem(s))"


def install_error_handlers(app: FastAPI, max_chars: int) -> None:
    """Route every failure through `error_response`."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, describe_validation(exc.errors(), max_chars))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            allowed = allowed_methods(request, exc)
            line = f"{request.method} is not allowed on {request.url.path}; allowed: {', '.join(allowed)}"
            return error_response(405, line, {"Allow": ", ".join(allowed)})
        if exc.status_code == 400:  # FastAPI could not read the body as JSON (e.g. it is not UTF-8): that is 422
            cause = exc.__cause__
            why = f"not UTF-8 text at byte {cause.start}" if isinstance(cause, UnicodeDecodeError) else "unreadable"
            return error_response(422, f"body: invalid JSON ({why}); send UTF-8 JSON")
        detail = exc.detail if isinstance(exc.detail, str) else STATUS_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(MessageError)
    async def _message(_: Request, exc: MessageError) -> JSONResponse:
        return error_response(422, str(exc))

    @app.exception_handler(FaqError)
    async def _faq(_: Request, exc: FaqError) -> JSONResponse:
        return error_response(409, str(exc))

    @app.exception_handler(FeedbackError)
    async def _feedback(_: Request, exc: FeedbackError) -> JSONResponse:
        return error_response(422, f"seq: {exc}")

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return store_unavailable(request, exc)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request, exc)


def allowed_methods(request: Request, exc: StarletteHTTPException) -> list[str]:
    """Every method served at this request's path: those the OpenAPI schema lists for it, and the router's own."""
    methods = {m.strip().upper() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()}
    for template, operations in request.app.openapi().get("paths", {}).items():
        parts = re.split(r"(\{[^/}]+\})", template)  # a path parameter matches one segment
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        if re.fullmatch(pattern, request.url.path):
            methods.update(method.upper() for method in operations if method.upper() in HTTP_METHODS)
    return sorted(methods)


def store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503: the store's own message names its URL, which stays in the server log."""
    incident = uuid.uuid4().hex[:10]
    log.error("store unavailable [%s] %s %s: %s", incident, request.method, request.url.path, exc)
    return error_response(503, f"the conversation store is unavailable; try again shortly (incident {incident})")


def internal_error(request: Request, exc: BaseException) -> JSONResponse:
    incident = uuid.uuid4().hex[:10]
    log.error("internal error [%s] %s %s", incident, request.method, request.url.path, exc_info=exc)
    return error_response(500, f"internal error (incident {incident}); the server log has the details")
