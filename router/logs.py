"""structlog, configured once: JSON lines in production, readable in a terminal.

Context (`request_id`, `case_id`, `referral_id`) is bound through contextvars so
every line of one request or one delivery carries it. Case content is never
passed to a logger; the only identifiers logged are the router's own.
"""

from __future__ import annotations

import logging
import sys
from typing import IO

import structlog


def configure_logging(
    log_format: str = "json", level: str = "INFO", stream: IO[str] | None = None
) -> None:
    """Route structlog and the standard library through one renderer."""
    renderer = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            # Drop what the level refuses before any processor runs: otherwise
            # each request's line is stamped and rendered only to be thrown away.
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("werkzeug", "amqp", "kombu", "pika", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def bind_request(request_id: str) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)


def bind_case(case_id: str) -> None:
    structlog.contextvars.bind_contextvars(case_id=case_id)


def bind_referral(referral_id: str) -> None:
    structlog.contextvars.bind_contextvars(referral_id=referral_id)


def start_message() -> None:
    """A consumed message starts a log context of its own: no line of it may
    carry the ids of the message before."""
    structlog.contextvars.clear_contextvars()
