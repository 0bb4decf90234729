"""Follow-up: what the contact point did with a referral it acknowledged.

Outcomes come from a fixed vocabulary, so the annual report can count them;
the latest is the referral's outcome. A final follow-up closes the referral.
The free-text note is stored encrypted, as the reports are.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert

from router.audit import audit_row, record
from router.auth import VerifiedCall, claim_token
from router.cases import referral_view
from router.persistence.tables import follow_ups
from router.transitions import refusal, transition

_REPORTED = {"outcome": bindparam("outcome"), "follow_up_at": bindparam("now")}
_REPORT = {
    "report_follow_up": transition("report_follow_up", **_REPORTED),
    "close": transition("close", **_REPORTED, closed_at=bindparam("now")),
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
    content_keys,
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
        raise refusal(connection, action, referral_id, call.party_id)

    connection.execute(
        _INSERT_FOLLOW_UP,
        {
            "referral_id": referral_id,
            "reported_at": now,
            "outcome": outcome,
            "note": content_keys.encrypt(note.encode()) if note else None,
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
