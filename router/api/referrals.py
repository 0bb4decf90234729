"""`/v1/referrals`: contact points acknowledge what was routed to them."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from contracts.referrals import (
    AcknowledgementSchema,
    DeclineSchema,
    FollowUpSchema,
    ReferralSchema,
)
from router.acknowledgements import acknowledge
from router.api.signed import require_signed_call, services
from router.follow_ups import report_follow_up
from router.logs import bind_case, bind_referral
from router.rerouting import decline

blueprint = Blueprint(
    "referrals",
    __name__,
    url_prefix="/v1/referrals",
    description="Referrals as their contact points handle them.",
)
require_signed_call(blueprint, "contact_point")


@blueprint.route("/<referral_id>/acknowledgement", methods=["POST"])
@blueprint.arguments(AcknowledgementSchema, required=False)
@blueprint.response(200, ReferralSchema)
def acknowledge_referral(body: dict, referral_id: str):
    """Confirm that a person has the referral in hand; repeating changes nothing."""
    ctx = services()
    bind_referral(referral_id)
    with ctx.engine.begin() as connection:
        referral = acknowledge(
            connection,
            g.call,
            referral_id,
            acknowledged_by=(body or {}).get("acknowledged_by"),
            now=ctx.clock.now(),
        )
    bind_case(referral["case_id"])

    return referral


@blueprint.route("/<referral_id>/follow-up", methods=["POST"])
@blueprint.arguments(FollowUpSchema)
@blueprint.response(200, ReferralSchema)
def follow_up_referral(body: dict, referral_id: str):
    """Report what was done; `final: true` closes the referral."""
    ctx = services()
    bind_referral(referral_id)
    with ctx.engine.begin() as connection:
        referral = report_follow_up(
            connection,
            g.call,
            referral_id,
            outcome=body["outcome"],
            note=body.get("note"),
            final=body["final"],
            now=ctx.clock.now(),
            content_keys=ctx.content_keys,
        )
    bind_case(referral["case_id"])

    return referral


@blueprint.route("/<referral_id>/decline", methods=["POST"])
@blueprint.arguments(DeclineSchema)
@blueprint.response(200, ReferralSchema)
def decline_referral(body: dict, referral_id: str):
    """Say the referral is not yours to handle; the router hands it onward."""
    ctx = services()
    bind_referral(referral_id)
    with ctx.engine.begin() as connection:
        referral = decline(
            connection,
            g.call,
            referral_id,
            reason=body["reason"],
            services=ctx,
            now=ctx.clock.now(),
        )
    bind_case(referral["case_id"])

    return referral
