"""The SLA clock: deadlines live in the database; a loop enforces them.

Each tick reminds contact points whose reminder point has passed and escalates
referrals past their deadline: marked breached, the coordinators told, and,
where the rules say so for the role, a fallback referral made. Every step is a
conditional UPDATE whose WHERE clause is the step's precondition, so any number
of clocks may run, and a restart repeats nothing. Acknowledged, revoked,
declined and closed referrals fall out of those WHERE clauses, so their
reminders and escalations stop by themselves. Each tick also recomputes the
dashboard's daily roll-up of the days that may have changed (`router.rollup`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, timedelta

import structlog
from sqlalchemy import bindparam, delete, update

from contracts.signed_calls import CLOCK_SKEW_SECONDS
from router.audit import audit_row, record
from router.lifecycle import AWAITING_ACKNOWLEDGEMENT
from router.notices import queue_notices, send_pending
from router.persistence.tables import referrals, seen_tokens
from router.rerouting import replace
from router.rollup import refresh_due

log = structlog.get_logger(__name__)

_REMIND = (
    update(referrals)
    .where(
        referrals.c.reminded_at.is_(None),
        referrals.c.remind_at <= bindparam("now"),
        referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT),
    )
    .values(reminded_at=bindparam("now"))
    .returning(referrals.c.id, referrals.c.case_id, referrals.c.contact_point_id)
)
_ESCALATE = (
    update(referrals)
    .where(
        referrals.c.breached_at.is_(None),
        referrals.c.ack_due_at < bindparam("now"),
        referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT),
    )
    .values(breached_at=bindparam("now"))
    .returning(
        referrals.c.id,
        referrals.c.case_id,
        referrals.c.contact_point_id,
        referrals.c.role,
        referrals.c.rule_id,
        referrals.c.fields,
        referrals.c.routed_at,
        referrals.c.ack_due_at,
    )
)
_FORGET_EXPIRED_TOKENS = delete(seen_tokens).where(
    seen_tokens.c.expires_at < bindparam("horizon")
)


@dataclass(frozen=True)
class Tick:
    reminded: int
    escalated: int
    rerouted: int
    notices_sent: int


class SlaClock:
    def __init__(self, services, notifier) -> None:
        self._services = services
        self._notifier = notifier

    def tick(self) -> Tick:
        """One pass: reminders, escalations, notices, housekeeping, and the
        dashboard's roll-up of the days that changed."""
        reminded = self._remind()
        escalated, rerouted = self._escalate()
        sent = send_pending(self._services.engine, self._notifier, self._services.clock)
        self._forget_expired_tokens()
        self._refresh_rollup()

        return Tick(reminded, escalated, rerouted, sent)

    def _remind(self) -> int:
        now = self._services.clock.now()
        with self._services.engine.begin() as connection:
            rows = connection.execute(_REMIND, {"now": now}).all()
            queue_notices(
                connection, "reminder", rows, lambda row: row.contact_point_id, now
            )
            record(
                connection,
                *(
                    audit_row(
                        at=now,
                        actor="sla_clock",
                        action="reminder_queued",
                        case_id=row.case_id,
                        referral_id=row.id,
                    )
                    for row in rows
                ),
            )
        for row in rows:
            log.info("reminder_queued", referral_id=row.id, case_id=row.case_id)

        return len(rows)

    def _escalate(self) -> tuple[int, int]:
        services = self._services
        now = services.clock.now()
        coordinators = services.routing.coordinators
        rerouted = 0
        with services.engine.begin() as connection:
            rows = connection.execute(_ESCALATE, {"now": now}).all()
            queue_notices(connection, "escalation", rows, lambda _: coordinators, now)
            for row in rows:
                record(
                    connection,
                    audit_row(
                        at=now,
                        actor="sla_clock",
                        action="deadline_breached",
                        case_id=row.case_id,
                        referral_id=row.id,
                        contact_point_id=row.contact_point_id,
                    ),
                )
                if services.routing.escalates_to_fallback(row.role):
                    replacement = replace(
                        connection,
                        row._mapping,
                        cause="escalated",
                        services=services,
                        now=now,
                    )
                    rerouted += replacement is not None
        for row in rows:
            log.warning("deadline_breached", referral_id=row.id, case_id=row.case_id)

        return len(rows), rerouted

    def _refresh_rollup(self) -> int:
        """Recompute the dashboard's roll-up of today, yesterday and the days
        acknowledgements made stale (router.rollup)."""
        today = self._services.clock.now().astimezone(UTC).date()
        with self._services.engine.begin() as connection:
            return refresh_due(connection, today)

    def _forget_expired_tokens(self) -> int:
        """Drop replay records of tokens the lifetime check refuses anyway."""
        horizon = self._services.clock.now() - timedelta(seconds=CLOCK_SKEW_SECONDS)
        with self._services.engine.begin() as connection:
            return connection.execute(
                _FORGET_EXPIRED_TOKENS, {"horizon": horizon}
            ).rowcount


def run_clock(clock: SlaClock, stop: threading.Event, interval: float) -> None:
    """Tick until `stop` is set; a failed tick is logged and the next one runs."""
    while not stop.is_set():
        try:
            clock.tick()
        except Exception as error:  # noqa: BLE001 - the clock outlives a fault
            log.warning("clock_tick_failed", error_type=type(error).__name__)
        stop.wait(interval)
