"""Re-routing: a referral handed on to the next contact point of its chain.

It happens when a contact point declines a referral (it is not competent) and
when the SLA clock escalates an overdue one where the rules say so. The new
referral replaces the old one: same role, same part of the report, a fresh
deadline of the same length, and a contact point the case has not had yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert

from router.audit import audit_row, record
from router.auth import VerifiedCall, claim_token
from router.cases import (
    case_document,
    contact_points_of_case,
    referral_view,
)
from router.dispatch import referral_row, sealed_outbox_row
from router.persistence.tables import outbox, referrals
from router.transitions import refusal, transition

_DECLINE = transition(
    "decline", declined_at=bindparam("now"), decline_reason=bindparam("reason")
)
_INSERT_REFERRAL = insert(referrals)
_INSERT_OUTBOX = insert(outbox)


def decline(
    connection: Connection,
    call: VerifiedCall,
    referral_id: str,
    *,
    reason: str,
    services,
    now: datetime,
) -> dict:
    """Decline a referral and hand it to the next contact point of its chain."""
    claim_token(connection, call)
    declined = connection.execute(
        _DECLINE,
        {
            "referral_id": referral_id,
            "addressee": call.party_id,
            "reason": reason,
            "now": now,
        },
    ).first()
    if declined is None:
        raise refusal(connection, "decline", referral_id, call.party_id)

    old = declined._mapping
    record(
        connection,
        audit_row(
            at=now,
            actor=call.party_id,
            action="referral_declined",
            case_id=old["case_id"],
            referral_id=referral_id,
            reason=reason,
        ),
    )
    replace(connection, old, cause="declined", services=services, now=now)

    return referral_view(old)


def replace(
    connection: Connection,
    old: Mapping[str, Any],
    *,
    cause: str,
    services,
    now: datetime,
) -> dict | None:
    """Make the referral that replaces `old`; None when the chain is exhausted."""
    tried = contact_points_of_case(connection, old["case_id"])
    contact_point_id, steps = services.routing.fallback_after(
        old["contact_point_id"], tried
    )
    if contact_point_id is None:
        record(
            connection,
            audit_row(
                at=now,
                actor="router",
                action="fallback_exhausted",
                case_id=old["case_id"],
                referral_id=old["id"],
                cause=cause,
            ),
        )
        return None

    new = referral_row(
        case_id=old["case_id"],
        contact_point_id=contact_point_id,
        role=old["role"],
        rule_id=old["rule_id"],
        fields=old["fields"].split(",") if old["fields"] else (),
        ack_within=old["ack_due_at"] - old["routed_at"],
        now=now,
        reminder_after=services.settings.reminder_after,
        replaces=old["id"],
    )
    hotline_id, document = case_document(
        connection, old["case_id"], services.content_keys
    )
    snapshot = services.directory.current()
    connection.execute(_INSERT_REFERRAL, new)
    connection.execute(
        _INSERT_OUTBOX,
        sealed_outbox_row(
            new,
            hotline_id=hotline_id,
            document=document,
            encryption_key=snapshot.contact_points[contact_point_id].encryption_key,
            now=now,
        ),
    )
    record(
        connection,
        audit_row(
            at=now,
            actor="router",
            action="referral_rerouted",
            case_id=old["case_id"],
            referral_id=new["id"],
            replaces=old["id"],
            contact_point_id=contact_point_id,
            cause=cause,
            steps=list(steps),
        ),
    )

    return new
