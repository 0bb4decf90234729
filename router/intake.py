"""Intake: a verified report becomes a case, routed, in one transaction.

The case, its referrals, one outbox row per referral and the audit entries are
written together, so nothing is published that is not committed, and nothing
committed is left unpublished: the relay picks the outbox up from here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.dialects import postgresql, sqlite

from contracts import PROTOCOL_VERSION
from contracts.sealing import seal
from router.auth import VerifiedCall, claim_token
from router.cases import case_view, find_case, read_case
from router.directory import Snapshot
from router.errors import Conflict
from router.persistence.tables import audit_entries, cases, outbox, referrals
from routing_rules import Decision, ReferralDecision, minimise

# A case filed under a reference its hotline used before inserts nothing and
# returns no id; the common case, a new reference, so needs no select first.
_INSERT_NEW_CASE = {
    dialect.dialect.name: dialect.insert(cases)
    .on_conflict_do_nothing(index_elements=[cases.c.hotline_id, cases.c.reference])
    .returning(cases.c.id)
    for dialect in (postgresql, sqlite)
}
_INSERT_REFERRALS = insert(referrals)
_INSERT_OUTBOX = insert(outbox)
_INSERT_AUDIT = insert(audit_entries)


@dataclass(frozen=True, slots=True)
class Submission:
    """A report whose call is verified and whose body follows the contract."""

    call: VerifiedCall
    report: dict[str, Any]  # as the contract schema loaded it
    document: dict[str, Any]  # the JSON as sent, for sealing
    body_sha256: str


@dataclass(frozen=True, slots=True)
class Outcome:
    case: dict[str, Any]
    created: bool


def submit_report(
    connection: Connection,
    submission: Submission,
    *,
    decide,
    snapshot: Snapshot,
    now: datetime,
) -> Outcome:
    """File a report: a new case, or the case already filed under its reference.

    `decide(report, hotline_country, at)` is the routing decision.
    """
    call = submission.call
    claim_token(connection, call)
    hotline_country = snapshot.hotline_countries.get(call.party_id)
    decision = decide(submission.report, hotline_country, now)
    case_row = _case_row(submission, decision, now)
    inserted = connection.execute(
        _INSERT_NEW_CASE[connection.dialect.name], case_row
    ).first()
    if inserted is None:
        return _filed_before(connection, submission)

    referral_rows = [
        _referral_row(case_row["id"], referral, now) for referral in decision.referrals
    ]
    connection.execute(_INSERT_REFERRALS, referral_rows)
    connection.execute(
        _INSERT_OUTBOX,
        [
            _outbox_row(submission, row, referral, snapshot, now)
            for row, referral in zip(referral_rows, decision.referrals, strict=True)
        ],
    )
    connection.execute(
        _INSERT_AUDIT, _audit_rows(call, case_row, referral_rows, decision, now)
    )

    return Outcome(case_view(case_row, referral_rows), created=True)


def _filed_before(connection: Connection, submission: Submission) -> Outcome:
    existing = find_case(
        connection, submission.call.party_id, submission.report["reference"]
    )
    if existing.body_sha256 != submission.body_sha256:
        raise Conflict(
            "This reference was filed before with another body.",
            slug="reference-conflict",
        )

    return Outcome(read_case(connection, existing), created=False)


def _case_row(submission: Submission, decision: Decision, now: datetime) -> dict:
    report = submission.report

    return {
        "id": str(uuid.uuid4()),
        "hotline_id": submission.call.party_id,
        "reference": report["reference"],
        "body_sha256": submission.body_sha256,
        "received_at": report["received_at"],
        "routed_at": now,
        "category": report["category"],
        "immediate_danger": report["immediate_danger"],
        "incident_country": report.get("incident", {}).get("country"),
        "rule_set_version": decision.rule_set_version,
        "content": json.dumps(submission.document, separators=(",", ":")),
    }


def _referral_row(case_id: str, referral: ReferralDecision, now: datetime) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "case_id": case_id,
        "contact_point_id": referral.contact_point_id,
        "role": referral.role,
        "state": "routed",
        "rule_id": referral.rule_id,
        "routed_at": now,
        "ack_due_at": now + referral.ack_within,
        "delivered_at": None,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "acknowledged_within_target": None,
        "breached_at": None,
        "outcome": None,
    }


def _outbox_row(
    submission: Submission,
    row: dict,
    referral: ReferralDecision,
    snapshot: Snapshot,
    now: datetime,
) -> dict:
    contact_point = snapshot.contact_points[referral.contact_point_id]
    content = {
        "hotline_id": submission.call.party_id,
        "report": minimise(submission.document, referral.fields),
    }
    message = {
        "protocol": PROTOCOL_VERSION,
        "referral_id": row["id"],
        "case_id": row["case_id"],
        "contact_point_id": referral.contact_point_id,
        "role": referral.role,
        "routed_at": now.isoformat(),
        "ack_due_at": row["ack_due_at"].isoformat(),
        "content": seal(contact_point.encryption_key, content),
    }

    return {
        "referral_id": row["id"],
        "contact_point_id": referral.contact_point_id,
        "payload": json.dumps(message, separators=(",", ":")).encode(),
        "created_at": now,
        "published_at": None,
    }


def _audit_rows(call, case_row, referral_rows, decision, now) -> list[dict]:
    filed = {
        "at": now,
        "actor": call.party_id,
        "action": "case_filed",
        "case_id": case_row["id"],
        "referral_id": None,
        "detail": json.dumps(
            {
                "rule_set_version": decision.rule_set_version,
                "to_coordinators": decision.to_coordinators,
            }
        ),
    }
    routed = [
        {
            "at": now,
            "actor": "router",
            "action": "referral_routed",
            "case_id": case_row["id"],
            "referral_id": row["id"],
            "detail": json.dumps(
                {
                    "contact_point_id": row["contact_point_id"],
                    "role": row["role"],
                    "rule_id": row["rule_id"],
                }
            ),
        }
        for row in referral_rows
    ]

    return [filed, *routed]
