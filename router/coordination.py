"""What coordinators do to a referral: revoke it, or hand it on by hand.

These act for the network, not for a contact point, so they take the
coordinator's name for the audit log instead of a signed call.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam, update

from router import lifecycle
from router.audit import audit_row, record
from router.cases import referral_view
from router.errors import InvalidTransition, NotFound
from router.notices import queue_notices
from router.persistence.tables import referrals
from router.rerouting import replace
from router.transitions import current_state, refusal, transition

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


_REMIND = (
    update(referrals)
    .where(
        referrals.c.id == bindparam("referral_id"),
        referrals.c.state.in_(lifecycle.AWAITING_ACKNOWLEDGEMENT),
    )
    .values(reminded_at=bindparam("now"))
    .returning(referrals.c.id, referrals.c.case_id, referrals.c.contact_point_id)
)


def remind(engine: Engine, referral_id: str, *, coordinator: str, now: datetime):
    """Queue a reminder to the contact point of a referral still unacknowledged.

    The SLA clock sends it with its other notices; setting `reminded_at` also
    spares the contact point the clock's own reminder for the same referral.
    """
    with engine.begin() as connection:
        reminded = connection.execute(
            _REMIND, {"referral_id": referral_id, "now": now}
        ).first()
        if reminded is None:
            state = current_state(connection, referral_id, None)
            if state is None:
                raise NotFound("No such referral.")
            raise InvalidTransition(
                f"A referral that is {state} needs no reminder; it must "
                f"be one of: {', '.join(lifecycle.AWAITING_ACKNOWLEDGEMENT)}."
            )
        queue_notices(
            connection,
            "reminder",
            [reminded],
            lambda row: row.contact_point_id,
            now,
        )
        record(
            connection,
            audit_row(
                at=now,
                actor=coordinator,
                action="reminder_queued",
                case_id=reminded.case_id,
                referral_id=reminded.id,
            ),
        )

    return reminded._mapping
