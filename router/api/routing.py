"""`/v1/routing/explain`: how a report would be routed, and why; stores nothing."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from contracts.reports import ReportSchema
from router.api.signed import require_signed_call, services
from router.auth import claim_token
from routing_rules import Facts, explain

blueprint = Blueprint(
    "routing",
    __name__,
    url_prefix="/v1/routing",
    description="The routing rules, explained for a given report.",
)
require_signed_call(blueprint, "hotline", "coordinator")


class ExplanationSchema(Schema):
    """The decision and, for each referral, the rules that fired and why."""

    rule_set_version = fields.String()
    at = fields.String()
    to_coordinators = fields.Boolean()
    facts = fields.Dict()
    referrals = fields.List(fields.Dict())


@blueprint.route("/explain", methods=["POST"])
@blueprint.arguments(ReportSchema)
@blueprint.response(200, ExplanationSchema)
def explain_routing(report: dict):
    """Route a report without filing it: nothing of the report is kept."""
    ctx = services()
    with ctx.engine.begin() as connection:
        claim_token(connection, g.call)
    snapshot = ctx.directory.current()
    rule_set, view = ctx.routing.current()
    facts = Facts.from_report(report, snapshot.hotline_countries.get(g.call.party_id))

    return explain(facts, rule_set, view, ctx.clock.now())
