"""Reading cases and referrals back, as their parties may see them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, tuple_

from router.persistence.tables import UTCDateTime, cases, referrals

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

_CASE_COLUMNS = (
    cases.c.id,
    cases.c.reference,
    cases.c.received_at,
    cases.c.routed_at,
    cases.c.rule_set_version,
    cases.c.body_sha256,
)
_CASE_BY_REFERENCE = select(*_CASE_COLUMNS).where(
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


def case_document(
    connection: Connection, case_id: str, content_keys
) -> tuple[str, dict]:
    """The hotline that filed a case, and the report as it sent it."""
    row = connection.execute(_CASE_DOCUMENT, {"case_id": case_id}).one()

    return row.hotline_id, json.loads(content_keys.decrypt(row.content))


def contact_points_of_case(connection: Connection, case_id: str) -> set[str]:
    """Every contact point a case has been referred to, in any state."""
    return set(
        connection.execute(_CONTACT_POINTS_OF_CASE, {"case_id": case_id}).scalars()
    )


_CASES_OF_HOTLINE = (
    select(*_CASE_COLUMNS)
    .where(cases.c.hotline_id == bindparam("hotline_id"))
    .order_by(cases.c.routed_at.desc(), cases.c.id.desc())
    .limit(bindparam("limit"))
)
_CASES_OF_HOTLINE_BEFORE = _CASES_OF_HOTLINE.where(
    tuple_(cases.c.routed_at, cases.c.id)
    < tuple_(bindparam("before_at", type_=UTCDateTime), bindparam("before_id"))
)
_REFERRALS_OF_CASES = select(*REFERRAL_COLUMNS).where(
    referrals.c.case_id.in_(bindparam("case_ids", expanding=True))
)


def list_cases(
    connection: Connection,
    hotline_id: str,
    *,
    limit: int,
    before: tuple[datetime, str] | None = None,
) -> list[dict]:
    """A hotline's cases, newest first, each with its referrals."""
    parameters = {"hotline_id": hotline_id, "limit": limit}
    statement = _CASES_OF_HOTLINE
    if before is not None:
        statement = _CASES_OF_HOTLINE_BEFORE
        parameters |= {"before_at": before[0], "before_id": before[1]}
    case_rows = connection.execute(statement, parameters).all()
    if not case_rows:
        return []
    by_case: dict[str, list] = {row.id: [] for row in case_rows}
    found = connection.execute(_REFERRALS_OF_CASES, {"case_ids": list(by_case)})
    for row in found:
        by_case[row.case_id].append(row._mapping)

    return [case_view(row._mapping, by_case[row.id]) for row in case_rows]
