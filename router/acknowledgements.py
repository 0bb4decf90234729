"""Acknowledgements: a person at the contact point confirms receipt.

This, not transport delivery, is what the 48-hour target measures. The first
acknowledgement is recorded with its time and whether it met the deadline;
repeating it changes nothing. An acknowledgement that arrives after the SLA
clock escalated the referral counts as late, whatever its timestamp, so the
record never says both "breached" and "within target".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, case

from router import lifecycle
from router.audit import audit_row, record
from router.auth import VerifiedCall, claim_token
from router.cases import find_referral_for, referral_view
from router.persistence.tables import referrals
from router.rollup import mark_stale
from router.transitions import refusal, transition

_ACKNOWLEDGE = transition(
    "acknowledge",
    acknowledged_at=bindparam("now"),
    acknowledged_by=bindparam("acknowledged_by"),
    acknowledged_within_target=case(
        (
            and_(
                referrals.c.breached_at.is_(None),
                referrals.c.ack_due_at >= bindparam("now"),
            ),
            True,
        ),
        else_=False,
    ),
)


def acknowledge(
    connection: Connection,
    call: VerifiedCall,
    referral_id: str,
    *,
    acknowledged_by: str | None,
    now: datetime,
) -> dict:
    """Record the contact point's acknowledgement of one of its referrals."""
    claim_token(connection, call)
    changed = connection.execute(
        _ACKNOWLEDGE,
        {
            "referral_id": referral_id,
            "addressee": call.party_id,
            "now": now,
            "acknowledged_by": acknowledged_by,
        },
    ).first()
    if changed is None:
        return _unchanged(connection, call, referral_id)

    referral = referral_view(changed._mapping)
    mark_stale(connection, changed.routed_at)
    record(
        connection,
        audit_row(
            at=now,
            actor=call.party_id,
            action="referral_acknowledged",
            case_id=referral["case_id"],
            referral_id=referral_id,
            within_target=referral["acknowledged_within_target"],
        ),
    )

    return referral


def _unchanged(connection: Connection, call: VerifiedCall, referral_id: str) -> dict:
    current = find_referral_for(connection, referral_id, call.party_id)
    if current is not None and current.state in lifecycle.ACKNOWLEDGED:
        return referral_view(current._mapping)

    raise refusal(connection, "acknowledge", referral_id, call.party_id)
