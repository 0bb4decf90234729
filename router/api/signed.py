"""The signed-call gate that stands before every `/v1` view.

It runs as a `before_request` hook, so the raw body is bounded, and the
signature and every claim verified, before anything parses the body.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, request

from router.auth import VerifiedCall, bearer_token, verify_call
from router.errors import Forbidden, PayloadTooLarge, UnsupportedMediaType

FORBIDDEN_KIND = "This endpoint is not for your kind of party."


def services():
    return current_app.extensions["referral_router"]


def require_signed_call(blueprint: Blueprint, *roles: str) -> None:
    """Make every view of `blueprint` answer only signed calls of `roles`:
    `hotline`, `contact_point`, or `coordinator` (the coordinators' own
    contact point)."""

    @blueprint.before_request
    def _verify() -> None:
        g.call = verify_request(roles)


def roles_of(call: VerifiedCall) -> set[str]:
    roles = {call.party_kind}
    point = services().directory.current().contact_points.get(call.party_id)
    if point is not None and point.kind == "coordinator":
        roles.add("coordinator")

    return roles


def verify_request(roles: tuple[str, ...]) -> VerifiedCall:
    ctx = services()
    settings = ctx.settings
    limit = settings.max_body_bytes
    if (request.content_length or 0) > limit:
        raise _too_large(limit)
    token = bearer_token(request.headers.get("Authorization"))
    # A chunked body has no length to check first: the app lets one byte past
    # the limit through to here (MAX_CONTENT_LENGTH), so a body cut at the
    # limit is told from a body that fits.
    body = request.get_data(cache=True)
    if len(body) > limit:
        raise _too_large(limit)
    if body and not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")

    call = verify_call(
        token,
        find_key=ctx.directory.find_key,
        audience=settings.router_id,
        method=request.method,
        url=settings.public_base_url + request.path,
        body=body,
        now=ctx.clock.now(),
    )
    if roles_of(call).isdisjoint(roles):
        raise Forbidden(FORBIDDEN_KIND)

    return call


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The body may be at most {limit} bytes.")
