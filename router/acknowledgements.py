"""Acknowledgements: a person at the contact point confirms receipt.

This, not transport delivery, is what the 48-hour target measures. The first
acknowledgement is recorded with its time and whether it met the deadline;
repeating it changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, update

from router.auth import VerifiedCall, claim_token
from router.cases import find_referral_for, referral_view
from router.errors import InvalidTransition, NotFound
from router.persistence.tables import audit_entries, referrals

ACKNOWLEDGEABLE = ("routed", "delivered")
ALREADY_ACKNOWLEDGED = ("acknowledged", "follow_up_reported", "closed")

_ACKNOWLEDGE = (
    update(referrals)
    .where(
        referrals.c.id == bindparam("referral_id"),
        referrals.c.state.in_(ACKNOWLEDGEABLE),
    )
    .values(
        state="acknowledged",
        acknowledged_at=bindparam("now"),
        acknowledged_by=bindparam("acknowledged_by"),
        acknowledged_within_target=bindparam("within_target"),
    )
)
_INSERT_AUDIT = insert(audit_entries)


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
    referral = find_referral_for(connection, referral_id, call.party_id)
    if referral is None:
        raise NotFound("No such referral is addressed to you.")
    if referral.state in ALREADY_ACKNOWLEDGED:
        return referral_view(referral._mapping)
    if referral.state not in ACKNOWLEDGEABLE:
        raise InvalidTransition(
            f"A referral that is {referral.state} cannot be acknowledged."
        )

    within_target = now <= referral.ack_due_at
    changed = connection.execute(
        _ACKNOWLEDGE,
        {
            "referral_id": referral_id,
            "now": now,
            "acknowledged_by": acknowledged_by,
            "within_target": within_target,
        },
    ).rowcount
    if changed:
        connection.execute(
            _INSERT_AUDIT,
            {
                "at": now,
                "actor": call.party_id,
                "action": "referral_acknowledged",
                "case_id": referral.case_id,
                "referral_id": referral_id,
                "detail": json.dumps({"within_target": within_target}),
            },
        )

    current = find_referral_for(connection, referral_id, call.party_id)

    return referral_view(current._mapping)
