"""The outbox relay: publishes committed outbox rows, oldest first.

A row is marked published only after the broker confirmed it. A crash between
the confirm and the mark republishes the row, which receivers absorb by
deduplicating on the referral id. On PostgreSQL several relays share the work:
each claims its rows with `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

import threading

import structlog
from sqlalchemy import Engine, bindparam, func, select, update

from router.clock import Clock
from router.delivery.broker import Outgoing
from router.persistence.db import reading
from router.persistence.tables import UTCDateTime, outbox

log = structlog.get_logger(__name__)

_CLAIM = (
    select(
        outbox.c.id, outbox.c.referral_id, outbox.c.contact_point_id, outbox.c.payload
    )
    .where(outbox.c.published_at.is_(None))
    .order_by(outbox.c.id)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True)
)
_MARK_PUBLISHED = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
    .values(published_at=bindparam("now"), attempts=outbox.c.attempts + 1)
)
_BACKLOG = select(func.count(), func.min(outbox.c.created_at, type_=UTCDateTime)).where(
    outbox.c.published_at.is_(None)
)


def relay_once(engine: Engine, publisher, clock: Clock, batch: int = 200) -> int:
    """Publish up to `batch` unpublished rows; the number confirmed.

    The rows are claimed in one transaction and published with many confirms
    in flight; only the rows whose own confirm arrived are marked, even when
    the batch fails half-way.
    """
    failure: Exception | None = None
    with engine.begin() as connection:
        rows = connection.execute(_CLAIM, {"batch": batch}).all()
        if not rows:
            return 0
        row_ids = {row.referral_id: row.id for row in rows}
        published: list[int] = []
        try:
            publisher.publish_batch(
                [
                    Outgoing(row.contact_point_id, row.referral_id, bytes(row.payload))
                    for row in rows
                ],
                lambda outgoing: published.append(row_ids[outgoing.referral_id]),
            )
        except Exception as error:  # noqa: BLE001 - raised again after the commit
            failure = error
        # Marked and committed even when the batch failed half-way: a row
        # whose confirm arrived must not be published again needlessly.
        if published:
            connection.execute(_MARK_PUBLISHED, {"ids": published, "now": clock.now()})
    if failure is not None:
        raise failure

    return len(published)


def backlog(engine: Engine, clock: Clock) -> dict:
    """How many rows wait, and the age in seconds of the oldest."""
    with reading(engine) as connection:
        waiting, oldest = connection.execute(_BACKLOG).one()
    age = (clock.now() - oldest).total_seconds() if oldest else 0.0

    return {"waiting": waiting, "oldest_age_seconds": age}


def run_relay(
    engine: Engine,
    publisher,
    clock: Clock,
    stop: threading.Event,
    interval: float,
) -> None:
    """Relay until `stop` is set; a broker failure is logged and retried."""
    while not stop.is_set():
        try:
            count = relay_once(engine, publisher, clock)
        except Exception as error:  # noqa: BLE001 - the relay outlives a fault
            log.warning("relay_failed", error_type=type(error).__name__)
            count = 0
        if count:
            log.info("outbox_relayed", published=count)
        else:
            stop.wait(interval)
