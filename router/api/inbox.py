"""`/v1/inbox`: the pull channel, for contact points that poll."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from contracts.referrals import InboxQuerySchema, InboxSchema
from router.api.signed import require_signed_call, services
from router.auth import claim_token
from router.inbox import waiting_referrals

blueprint = Blueprint(
    "inbox",
    __name__,
    url_prefix="/v1/inbox",
    description="Referrals waiting for the calling contact point.",
)
require_signed_call(blueprint, "contact_point")


@blueprint.route("", methods=["GET"])
@blueprint.arguments(InboxQuerySchema, location="query")
@blueprint.response(200, InboxSchema)
def inbox(query: dict):
    """Referrals routed to the caller and not yet acknowledged, sealed, paged."""
    ctx = services()
    with ctx.engine.begin() as connection:
        claim_token(connection, g.call)
        return waiting_referrals(
            connection, g.call.party_id, limit=query["limit"], after=query["after"]
        )
