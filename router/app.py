"""The Flask application factory."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from flask import Flask, g, request

from router.api import health, inbox, referrals, reports, routing
from router.api.problems import ProblemApi, register_problem_handlers
from router.dashboard import init_dashboard
from router.logs import bind_request
from router.services import Services, build_services

log = structlog.get_logger("router.requests")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RouterFlask(Flask):
    def log_exception(self, exc_info) -> None:
        """Leave it to the problem handler, which logs without the message:
        an exception's message may quote data it was handling."""


def create_app(services: Services | None = None) -> Flask:
    """Build the router's web application around its shared services."""
    services = services or build_services()
    app = RouterFlask("router")
    app.config.update(
        # One byte more than a signed call may carry: see router.api.signed.
        MAX_CONTENT_LENGTH=services.settings.max_body_bytes + 1,
        API_TITLE="referral-router",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/openapi",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.extensions["referral_router"] = services

    api = ProblemApi(
        app,
        spec_kwargs={
            "info": {"description": _DESCRIPTION},
            "security": [{"signedCall": []}],
        },
    )
    app.extensions["openapi"] = api
    api.spec.components.security_scheme(
        "signedCall", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for blueprint in (
        reports.blueprint,
        referrals.blueprint,
        inbox.blueprint,
        routing.blueprint,
    ):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blueprint)
    init_dashboard(app, services)
    register_problem_handlers(app)
    _add_request_logging(app)

    return app


def _add_request_logging(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        offered = request.headers.get("X-Request-Id", "")
        g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.started = time.perf_counter()
        bind_request(g.request_id)

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        call = g.get("call")
        log.info(
            "request",
            method=request.method,
            route=request.url_rule.rule if request.url_rule else None,
            status=response.status_code,
            party_id=call.party_id if call else None,
            duration_ms=round((time.perf_counter() - g.get("started", 0)) * 1e3, 2),
        )

        return response


_DESCRIPTION = (
    "Protocol v1 of the referral router. Every /v1 call is signed by its "
    "caller (see the signedCall scheme: a JWT whose claims bind the method, "
    "the URI and the SHA-256 of the raw body). Errors are "
    "application/problem+json."
)
