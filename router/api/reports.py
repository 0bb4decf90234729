"""`/v1/reports`: hotlines file reports and follow them."""

from __future__ import annotations

import base64
from datetime import datetime

from flask import g, request, url_for
from flask_smorest import Blueprint

from contracts.referrals import CaseListQuerySchema, CaseListSchema, CaseSchema
from contracts.reports import ReportSchema
from contracts.signed_calls import body_digest
from router.api.signed import require_signed_call, services
from router.auth import claim_token
from router.cases import find_case, list_cases, read_case
from router.errors import NotFound, ValidationFailed
from router.intake import Submission, submit_report
from router.logs import bind_case

blueprint = Blueprint(
    "reports",
    __name__,
    url_prefix="/v1/reports",
    description="Reports filed by member hotlines, and how they were followed.",
)
require_signed_call(blueprint, "hotline")

# An instance, not the class: webargs would build a class afresh per request,
# with every nested schema, and that cost as much as the signature check.
_REPORT_SCHEMA = ReportSchema()


@blueprint.route("", methods=["GET"])
@blueprint.arguments(CaseListQuerySchema, location="query")
@blueprint.response(200, CaseListSchema)
def list_reports(query: dict):
    """The hotline's own cases, newest first, with their referrals."""
    ctx = services()
    before = decode_cursor(query["before"]) if "before" in query else None
    with ctx.engine.begin() as connection:
        claim_token(connection, g.call)
        page = list_cases(
            connection, g.call.party_id, limit=query["limit"], before=before
        )
    last = page[-1] if len(page) == query["limit"] else None

    return {
        "cases": page,
        "next": encode_cursor(last["routed_at"], last["case_id"]) if last else None,
    }


def encode_cursor(routed_at: datetime, case_id: str) -> str:
    text = f"{routed_at.isoformat()}|{case_id}"

    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        routed_at, case_id = base64.urlsafe_b64decode(cursor).decode().split("|")
        moment = datetime.fromisoformat(routed_at)
    except ValueError:
        raise ValidationFailed({"before": ["Not a cursor from this API."]}) from None
    if moment.tzinfo is None:
        raise ValidationFailed({"before": ["Not a cursor from this API."]})

    return moment, case_id


@blueprint.route("", methods=["POST"])
@blueprint.arguments(_REPORT_SCHEMA)
@blueprint.response(201, CaseSchema)
@blueprint.alt_response(200, schema=CaseSchema, description="Filed before")
def file_report(report: dict):
    """File a report; the same reference with the same body returns its case."""
    ctx = services()
    submission = Submission(
        call=g.call,
        report=report,
        document=request.get_json(),
        body_sha256=body_digest(request.get_data(cache=True)),
    )
    outcome = submit_report(
        ctx.engine,
        submission,
        decide=ctx.routing.decide,
        snapshot=ctx.directory.current(),
        now=ctx.clock.now(),
        reminder_after=ctx.settings.reminder_after,
        content_keys=ctx.content_keys,
    )
    bind_case(outcome.case["case_id"])
    status = 201 if outcome.created else 200
    location = url_for("reports.follow_report", reference=report["reference"])

    return outcome.case, status, {"Location": location}


@blueprint.route("/<reference>", methods=["GET"])
@blueprint.response(200, CaseSchema)
def follow_report(reference: str):
    """A case with its referrals, for the hotline that filed it and no other."""
    ctx = services()
    with ctx.engine.begin() as connection:
        claim_token(connection, g.call)
        case_row = find_case(connection, g.call.party_id, reference)
        if case_row is None:
            raise NotFound("You filed no report under this reference.")
        bind_case(case_row.id)

        return read_case(connection, case_row)
