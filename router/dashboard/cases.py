"""One case as a vetted coordinator sees it: the report, its referrals and
its audit trail. Only the case page reads content; the views write the
audit entry for every look."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from router.persistence.tables import audit_entries, cases, referrals

_CASE = select(cases).where(cases.c.id == bindparam("case_id"))
_REFERRALS = (
    select(
        referrals.c.id,
        referrals.c.contact_point_id,
        referrals.c.role,
        referrals.c.state,
        referrals.c.delivery_status,
        referrals.c.routed_at,
        referrals.c.ack_due_at,
        referrals.c.acknowledged_at,
        referrals.c.outcome,
        referrals.c.replaces_referral_id,
    )
    .where(referrals.c.case_id == bindparam("case_id"))
    .order_by(referrals.c.routed_at, referrals.c.id)
)
_TRAIL = (
    select(
        audit_entries.c.at,
        audit_entries.c.actor,
        audit_entries.c.action,
        audit_entries.c.referral_id,
    )
    .where(audit_entries.c.case_id == bindparam("case_id"))
    .order_by(audit_entries.c.at, audit_entries.c.id)
)


@dataclass(frozen=True)
class CaseDetails:
    case: object
    report: dict
    referrals: list
    trail: list


def case_details(
    connection: Connection, case_id: str, decrypt=lambda stored: stored
) -> CaseDetails | None:
    """The case, its referrals and its audit trail; `decrypt` opens content
    stored encrypted at rest."""
    row = connection.execute(_CASE, {"case_id": case_id}).first()
    if row is None:
        return None

    return CaseDetails(
        case=row,
        report=json.loads(decrypt(row.content)),
        referrals=connection.execute(_REFERRALS, {"case_id": case_id}).all(),
        trail=connection.execute(_TRAIL, {"case_id": case_id}).all(),
    )
