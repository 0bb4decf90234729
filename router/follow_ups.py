"""Follow-up: what the contact point did with a referral it acknowledged.

Outcomes come from a fixed vocabulary, so the annual report can count them;
the latest is the referral's outcome. A final follow-up closes the referral.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, update

from router import lifecycle
from router.audit import audit_row, record
from router.auth import VerifiedCall, claim_token
from router.cases import REFERRAL_COLUMNS, find_referral_for, referral_view
from router.errors import NotFound
from router.persistence.tables import follow_ups, referrals


def _report_statement(action: str):
    values = {
        "state": lifecycle.target(action),
        "outcome": bindparam("outcome"),
        "follow_up_at": bindparam("now"),
    }
    if action == "close":
        values["closed_at"] = bindparam("now")

    return (
        update(referrals)
        .where(
            referrals.c.id == bindparam("referral_id"),
            referrals.c.contact_point_id == bindparam("addressee"),
            referrals.c.state.in_(lifecycle.sources(action)),
        )
        .values(**values)
        .returning(*REFERRAL_COLUMNS)
    )


_REPORT = {
    action: _report_statement(action) for action in ("report_follow_up", "close")
}
_INSERT_FOLLOW_UP = insert(follow_ups)


def report_follow_up(
    connection: Connection,
    call: VerifiedCall,
    referral_id: str,
    *,
    outcome: str,
    note: str | None,
    final: bool,
    now: datetime,
) -> dict:
    """Record a follow-up on an acknowledged referral; `final` closes it."""
    claim_token(connection, call)
    action = "close" if final else "report_follow_up"
    changed = connection.execute(
        _REPORT[action],
        {
            "referral_id": referral_id,
            "addressee": call.party_id,
            "outcome": outcome,
            "now": now,
        },
    ).first()
    if changed is None:
        current = find_referral_for(connection, referral_id, call.party_id)
        if current is None:
            raise NotFound("No such referral is addressed to you.")
        raise lifecycle.refuse(action, current.state)

    connection.execute(
        _INSERT_FOLLOW_UP,
        {
            "referral_id": referral_id,
            "reported_at": now,
            "outcome": outcome,
            "note": note,
        },
    )
    referral = referral_view(changed._mapping)
    record(
        connection,
        audit_row(
            at=now,
            actor=call.party_id,
            action="referral_closed" if final else "follow_up_reported",
            case_id=referral["case_id"],
            referral_id=referral_id,
            outcome=outcome,
        ),
    )

    return referral
