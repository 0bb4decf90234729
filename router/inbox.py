"""The pull channel's inbox: referral messages waiting for one contact point.

A referral waits from routing until it is acknowledged. The messages are the
outbox payloads, exactly as published to the broker: routing headers and
content sealed to the contact point's key. Pages follow the outbox order.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from router.lifecycle import AWAITING_ACKNOWLEDGEMENT
from router.persistence.tables import outbox, referrals

_WAITING = (
    select(outbox.c.id, outbox.c.payload)
    .join(referrals, referrals.c.id == outbox.c.referral_id)
    .where(
        referrals.c.contact_point_id == bindparam("contact_point_id"),
        referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT),
        outbox.c.id > bindparam("after"),
    )
    .order_by(outbox.c.id)
    .limit(bindparam("limit"))
)


def waiting_referrals(
    connection: Connection, contact_point_id: str, *, limit: int, after: int = 0
) -> dict:
    """One page of the contact point's waiting referrals, and the next cursor."""
    rows = connection.execute(
        _WAITING,
        {"contact_point_id": contact_point_id, "after": after, "limit": limit + 1},
    ).all()
    page = rows[:limit]

    return {
        "referrals": [_message(row.payload) for row in page],
        "next_after": page[-1].id if len(rows) > limit else None,
    }


def _message(payload: bytes) -> dict:
    message = json.loads(payload)
    for name in ("routed_at", "ack_due_at"):
        message[name] = datetime.fromisoformat(message[name])

    return message
