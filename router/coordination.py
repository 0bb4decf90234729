"""What coordinators do to a referral: revoke it, or hand it on by hand.

These act for the network, not for a contact point, so they take the
coordinator's name for the audit log instead of a signed call.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam, select, update

from router import lifecycle
from router.audit import audit_row, record
from router.cases import REFERRAL_COLUMNS, referral_view
from router.errors import InvalidTransition, NotFound
from router.notices import queue_notices
from router.persistence.tables import referrals
from router.rerouting import replace

_REVOKE = (
    update(referrals)
    .where(
        referrals.c.id == bindparam("referral_id"),
        referrals.c.state.in_(lifecycle.sources("revoke")),
    )
    .values(
        state=lifecycle.target("revoke"),
        revoked_at=bindparam("now"),
        revoked_by=bindparam("coordinator"),
    )
    .returning(*REFERRAL_COLUMNS, referrals.c.fields, referrals.c.rule_id)
)
_REFERRAL = select(*REFERRAL_COLUMNS).where(referrals.c.id == bindparam("referral_id"))


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
            current = connection.execute(
                _REFERRAL, {"referral_id": referral_id}
            ).first()
            if current is None:
                raise NotFound("No such referral.")
            raise lifecycle.refuse("revoke", current.state)

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
                routing=services.routing,
                snapshot=services.directory.current(),
                now=now,
                reminder_after=services.settings.reminder_after,
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
            current = connection.execute(
                _REFERRAL, {"referral_id": referral_id}
            ).first()
            if current is None:
                raise NotFound("No such referral.")
            raise InvalidTransition(
                f"A referral that is {current.state} needs no reminder; it must "
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
