"""The SLA clock: deadlines live in the database, and a loop marks breaches.

Each pass is one conditional UPDATE per concern, so any number of clocks may
run at once and a restart repeats nothing: a referral is marked breached once,
by whichever pass reaches it first.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import structlog
from sqlalchemy import Engine, bindparam, delete, insert, update

from contracts.signed_calls import CLOCK_SKEW_SECONDS
from router.clock import Clock
from router.persistence.tables import audit_entries, referrals, seen_tokens

log = structlog.get_logger(__name__)
OPEN_STATES = ("routed", "delivered")

_MARK_BREACHED = (
    update(referrals)
    .where(
        referrals.c.breached_at.is_(None),
        referrals.c.state.in_(OPEN_STATES),
        referrals.c.ack_due_at < bindparam("now"),
    )
    .values(breached_at=bindparam("now"))
    .returning(referrals.c.id, referrals.c.case_id, referrals.c.contact_point_id)
)
_FORGET_EXPIRED_TOKENS = delete(seen_tokens).where(
    seen_tokens.c.expires_at < bindparam("horizon")
)
_INSERT_AUDIT = insert(audit_entries)


def mark_breaches(engine: Engine, clock: Clock) -> list[str]:
    """Mark every open referral past its deadline; the ids newly marked."""
    now = clock.now()
    with engine.begin() as connection:
        breached = connection.execute(_MARK_BREACHED, {"now": now}).all()
        if breached:
            connection.execute(
                _INSERT_AUDIT,
                [
                    {
                        "at": now,
                        "actor": "sla_clock",
                        "action": "deadline_breached",
                        "case_id": row.case_id,
                        "referral_id": row.id,
                        "detail": json.dumps(
                            {"contact_point_id": row.contact_point_id}
                        ),
                    }
                    for row in breached
                ],
            )
    for row in breached:
        log.warning("deadline_breached", referral_id=row.id, case_id=row.case_id)

    return [row.id for row in breached]


def forget_expired_tokens(engine: Engine, clock: Clock) -> int:
    """Drop replay records of tokens that the lifetime check refuses anyway."""
    horizon = clock.now() - timedelta(seconds=CLOCK_SKEW_SECONDS)
    with engine.begin() as connection:
        return connection.execute(_FORGET_EXPIRED_TOKENS, {"horizon": horizon}).rowcount


def run_clock(engine: Engine, clock: Clock, stop: threading.Event, interval: float):
    """Tick until `stop` is set; a failed tick is logged and the next one runs."""
    while not stop.is_set():
        try:
            mark_breaches(engine, clock)
            forget_expired_tokens(engine, clock)
        except Exception as error:  # noqa: BLE001 - the clock outlives a fault
            log.warning("clock_tick_failed", error_type=type(error).__name__)
        stop.wait(interval)
