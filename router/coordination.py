"""What coordinators do to a referral: revoke it, or hand it on by hand.

These act for the network, not for a contact point, so they take the
coordinator's name for the audit log instead of a signed call.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam

from router.audit import audit_row, record
from router.cases import referral_view
from router.rerouting import replace
from router.transitions import refusal, transition

_REVOKE = transition(
    "revoke",
    addressed=False,
    revoked_at=bindparam("now"),
    revoked_by=bindparam("coordinator"),
)


def revoke(
    engine: Engine,
    referral_id: str,
    *,
    coordinator: str,
    now: datetime,
    services=None,
    reroute: bool = False,
) -> dict:
    """Withdraw a referral; with `reroute`, hand it to the next contact point."""
    with engine.begin() as connection:
        revoked = connection.execute(
            _REVOKE,
            {"referral_id": referral_id, "coordinator": coordinator, "now": now},
        ).first()
        if revoked is None:
            raise refusal(connection, "revoke", referral_id)

        old = revoked._mapping
        record(
            connection,
            audit_row(
                at=now,
                actor=coordinator,
                action="referral_revoked",
                case_id=old["case_id"],
                referral_id=referral_id,
                rerouted=reroute,
            ),
        )
        if reroute:
            replace(
                connection,
                old,
                cause="rerouted_by_coordinator",
                services=services,
                now=now,
            )

    return referral_view(old)
