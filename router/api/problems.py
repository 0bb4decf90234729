"""Every error as `application/problem+json` (RFC 9457), with a stable `type`.

No problem document repeats what the client sent: validation messages name the
field and the rule, never the value.
"""

from __future__ import annotations

import traceback
from typing import Any

import structlog
from flask import Flask, Response, json
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from contracts.problems import ProblemSchema
from router.errors import PROBLEM_BASE, ProblemError

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)

_LOCATIONS = frozenset({"json", "query", "path", "headers", "form"})
_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
    500: "internal-error",
}


def problem_response(
    status: int, slug: str, title: str, detail: str, **extra: Any
) -> Response:
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }

    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def render_problem(error: ProblemError) -> Response:
    return problem_response(
        error.status, error.slug, error.title, error.detail, **error.extra()
    )


def field_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into `{"a.0.b": [...]}`."""
    if isinstance(messages, dict):
        flat: dict[str, list[str]] = {}
        for key, nested in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(field_errors(nested, path))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}

    return {prefix or "_schema": [str(messages)]}


def _innermost_frame(error: BaseException | None) -> str | None:
    """Where an error was raised, without its message: messages may hold data."""
    if error is None or error.__traceback__ is None:
        return None
    frame = traceback.extract_tb(error.__traceback__)[-1]

    return f"{frame.filename}:{frame.lineno} in {frame.name}"


class ProblemApi(Api):
    """flask-smorest's Api, answering every HTTP error as problem+json."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        if status == 422 and "messages" in data:
            messages = data["messages"]
            # webargs files messages under their location; one location at a
            # time is parsed here, so its name adds nothing to the paths.
            if len(messages) == 1 and next(iter(messages)) in _LOCATIONS:
                messages = next(iter(messages.values()))
            return problem_response(
                422,
                "validation-failed",
                "The body does not follow the contract",
                "One or more fields are invalid; see errors.",
                errors=field_errors(messages),
            )
        if status == 400 and "messages" in data:
            return problem_response(
                400, "malformed-json", "The body is not JSON", "The body is not JSON."
            )
        if status >= 500:
            cause = getattr(error, "original_exception", None)
            log.error(
                "unhandled_error",
                error_type=type(cause).__name__,
                where=_innermost_frame(cause),
            )
            return problem_response(
                status,
                "internal-error",
                "Internal error",
                "The router failed; the failure is logged without its content.",
            )

        return problem_response(
            status,
            _HTTP_SLUGS.get(status, "http-error"),
            error.name,
            error.description or error.name,
        )


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(ProblemError, render_problem)
