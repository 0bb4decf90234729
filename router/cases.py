"""Reading cases and referrals back, as their parties may see them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, bindparam, select

from router.persistence.tables import cases, referrals

REFERRAL_COLUMNS = (
    referrals.c.id,
    referrals.c.case_id,
    referrals.c.contact_point_id,
    referrals.c.role,
    referrals.c.state,
    referrals.c.routed_at,
    referrals.c.ack_due_at,
    referrals.c.delivered_at,
    referrals.c.acknowledged_at,
    referrals.c.acknowledged_within_target,
    referrals.c.breached_at,
    referrals.c.reminded_at,
    referrals.c.outcome,
    referrals.c.follow_up_at,
    referrals.c.closed_at,
    referrals.c.declined_at,
    referrals.c.decline_reason,
    referrals.c.revoked_at,
    referrals.c.replaces_referral_id,
)
REFERRAL_FIELDS = tuple(column.name for column in REFERRAL_COLUMNS)

_CASE_BY_REFERENCE = select(
    cases.c.id,
    cases.c.reference,
    cases.c.received_at,
    cases.c.routed_at,
    cases.c.rule_set_version,
    cases.c.body_sha256,
).where(
    cases.c.hotline_id == bindparam("hotline_id"),
    cases.c.reference == bindparam("reference"),
)
_REFERRALS_OF_CASE = select(*REFERRAL_COLUMNS).where(
    referrals.c.case_id == bindparam("case_id")
)
_REFERRAL_FOR_CONTACT_POINT = select(*REFERRAL_COLUMNS).where(
    referrals.c.id == bindparam("referral_id"),
    referrals.c.contact_point_id == bindparam("contact_point_id"),
)


def find_case(connection: Connection, hotline_id: str, reference: str):
    """The case row a hotline filed under `reference`, or None."""
    return connection.execute(
        _CASE_BY_REFERENCE, {"hotline_id": hotline_id, "reference": reference}
    ).first()


def case_view(case: Mapping, referral_rows: Iterable[Mapping]) -> dict:
    """The case as its hotline follows it."""
    return {
        "case_id": case["id"],
        "reference": case["reference"],
        "received_at": case["received_at"],
        "routed_at": case["routed_at"],
        "rule_set_version": case["rule_set_version"],
        "referrals": sorted(
            (referral_view(row) for row in referral_rows), key=_referral_order
        ),
    }


_ROLE_ORDER = {"lead": 0, "informed": 1, "support": 2}


def _referral_order(referral: dict) -> tuple:
    """Oldest first; within one routing, lead before informed before support."""
    return (
        referral["routed_at"],
        _ROLE_ORDER.get(referral["role"], 3),
        referral["contact_point_id"],
    )


def referral_view(row: Mapping) -> dict:
    return {name: row.get(name) for name in REFERRAL_FIELDS}


def read_case(connection: Connection, case_row) -> dict:
    rows = connection.execute(_REFERRALS_OF_CASE, {"case_id": case_row.id})

    return case_view(case_row._mapping, (row._mapping for row in rows))


def find_referral_for(connection: Connection, referral_id: str, contact_point_id):
    """The referral if it is addressed to `contact_point_id`, else None."""
    return connection.execute(
        _REFERRAL_FOR_CONTACT_POINT,
        {"referral_id": referral_id, "contact_point_id": contact_point_id},
    ).first()


_CASE_DOCUMENT = select(cases.c.hotline_id, cases.c.content).where(
    cases.c.id == bindparam("case_id")
)
_CONTACT_POINTS_OF_CASE = select(referrals.c.contact_point_id).where(
    referrals.c.case_id == bindparam("case_id")
)


def case_document(connection: Connection, case_id: str) -> tuple[str, dict]:
    """The hotline that filed a case, and the report as it sent it."""
    row = connection.execute(_CASE_DOCUMENT, {"case_id": case_id}).one()

    return row.hotline_id, json.loads(row.content)


def contact_points_of_case(connection: Connection, case_id: str) -> set[str]:
    """Every contact point a case has been referred to, in any state."""
    return set(
        connection.execute(_CONTACT_POINTS_OF_CASE, {"case_id": case_id}).scalars()
    )
