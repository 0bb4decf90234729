"""Parked referrals: where deliveries stand, and putting parked ones back.

On RabbitMQ a referral is parked in `<prefix>.parked` (its destination failed
past the last retry tier, or the message was dead-lettered) or in
`<prefix>.unroutable` (no queue was bound for it). Replaying takes each
message from both, republishes it to its contact point's queue with a fresh
attempt count, and acknowledges the parked copy only after the broker
confirmed the new one: a crash in between delivers twice, never zero times.
A message for a contact point the directory does not know is left where it
is (publishing it would declare a queue for it): it stays until the directory
names that contact point, or an operator removes it.

On the in-process transport nothing is kept by the broker: the referrals
recorded as parked are published again from the outbox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import structlog
from sqlalchemy import Engine, bindparam, exists, func, insert, select, update

from router.clock import Clock
from router.config import Settings
from router.delivery.broker import Publisher, connect, looks_like_id, topology_for
from router.persistence.tables import audit_entries, contact_points, outbox, referrals

log = structlog.get_logger(__name__)
DELIVERY_STATUSES = ("queued", "delivered", "retrying", "parked")

_COUNT_BY_STATUS = select(referrals.c.delivery_status, func.count()).group_by(
    referrals.c.delivery_status
)
_PARKED = (
    select(referrals.c.id, referrals.c.contact_point_id)
    .where(referrals.c.delivery_status == "parked")
    .order_by(referrals.c.routed_at)
)
_REQUEUE = (
    update(referrals)
    .where(referrals.c.id == bindparam("referral_id"))
    .values(delivery_status="queued")
)
_UNPUBLISH = (
    update(outbox)
    .where(outbox.c.referral_id == bindparam("parked_referral"))
    .values(published_at=None)
)
_INSERT_AUDIT = insert(audit_entries)
_KNOWN_POINT = select(contact_points.c.id).where(
    contact_points.c.id == bindparam("contact_point_id")
)
_unroutable = audit_entries.alias("unroutable")
_replayed = audit_entries.alias("replayed")
# Parked now because no queue took the message: an unroutable alert with no
# replay after it. Both actions are rare; the action index finds them.
_UNROUTABLE_NOW = (
    select(referrals.c.id, referrals.c.contact_point_id)
    .where(referrals.c.delivery_status == "parked")
    .where(
        exists()
        .where(_unroutable.c.action == "delivery_unroutable")
        .where(_unroutable.c.referral_id == referrals.c.id)
        .where(
            ~exists()
            .where(_replayed.c.action == "delivery_replayed")
            .where(_replayed.c.referral_id == _unroutable.c.referral_id)
            .where(_replayed.c.id > _unroutable.c.id)
        )
    )
    .order_by(referrals.c.routed_at)
)


@dataclass(frozen=True, slots=True)
class Replay:
    """What a replay did: how many it sent on, how many it left in place."""

    replayed: int
    kept: int = 0


def delivery_counts(engine: Engine) -> dict[str, int]:
    """How many referrals stand in each delivery status."""
    with engine.connect() as connection:
        found = dict(connection.execute(_COUNT_BY_STATUS).all())

    return {status: found.get(status, 0) for status in DELIVERY_STATUSES}


def parked_referrals(engine: Engine) -> list[tuple[str, str]]:
    """(referral id, contact point id) of each referral recorded as parked."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(_PARKED).all()]


def unroutable_referrals(connection) -> list[tuple[str, str]]:
    """(referral id, contact point id) of each referral parked now because
    its message was unroutable."""
    return [tuple(row) for row in connection.execute(_UNROUTABLE_NOW).all()]


def holding_depths(settings: Settings) -> dict[str, int]:
    """Messages waiting in the parked and unroutable queues (RabbitMQ only)."""
    if settings.is_in_process_broker:
        return {}
    topology = topology_for(settings)
    depths = {}
    with connect(settings) as connection:
        channel = connection.default_channel
        topology.declare_holding(channel)
        for queue in topology.holding_queues():
            _, count, _ = channel.queue_declare(queue=queue.name, passive=True)
            depths[queue.name] = count

    return depths


def replay_parked(settings: Settings, engine: Engine, clock: Clock) -> int:
    """Put every parked referral back on its way; the number replayed."""
    return replay_parked_messages(settings, engine, clock).replayed


def replay_parked_messages(settings: Settings, engine: Engine, clock: Clock) -> Replay:
    """Put every parked referral back on its way; what was replayed and kept."""
    if settings.is_in_process_broker:
        return _replay_from_outbox(engine, clock)

    return _replay_from_broker(settings, engine, clock)


def _replay_from_outbox(engine: Engine, clock: Clock) -> Replay:
    replayed = parked_referrals(engine)
    with engine.begin() as connection:
        for referral_id, _ in replayed:
            connection.execute(_UNPUBLISH, {"parked_referral": referral_id})
            _record_replay(connection, referral_id, clock, source="outbox")

    return Replay(len(replayed))


def _replay_from_broker(settings: Settings, engine: Engine, clock: Clock) -> Replay:
    topology = topology_for(settings)
    publisher = Publisher(settings)
    replayed = kept = 0
    try:
        with connect(settings) as connection:
            channel = connection.default_channel
            topology.declare_holding(channel)
            for queue in topology.holding_queues():
                bound = queue.bind(channel)
                # A message left unacknowledged is not offered again by this
                # channel, and returns to its queue when the channel closes.
                while (message := bound.get(no_ack=False)) is not None:
                    if _replay_one(publisher, message, engine, clock, queue):
                        replayed += 1
                    else:
                        kept += 1
    finally:
        publisher.close()

    return Replay(replayed, kept)


def _replay_one(publisher, message, engine, clock, queue) -> bool:
    body = message.body.encode() if isinstance(message.body, str) else message.body
    try:
        headers = json.loads(body)
        contact_point_id = headers["contact_point_id"]
        referral_id = headers["referral_id"]
    except (ValueError, KeyError, TypeError):
        log.error("parked_message_unreadable", queue=queue.name)
        return False
    with engine.connect() as connection:
        known = connection.execute(
            _KNOWN_POINT, {"contact_point_id": contact_point_id}
        ).first()
    if known is None:
        # Publishing would declare a queue for a contact point nobody runs.
        ids = {"referral_id": referral_id} if looks_like_id(referral_id) else {}
        log.error("parked_message_unknown_contact_point", queue=queue.name, **ids)
        return False

    publisher.publish(contact_point_id, referral_id, bytes(body))
    message.ack()
    with engine.begin() as connection:
        _record_replay(connection, referral_id, clock, source=queue.name)
    log.info("parked_replayed", referral_id=referral_id, queue=queue.name)

    return True


def _record_replay(connection, referral_id: str, clock: Clock, **detail) -> None:
    connection.execute(_REQUEUE, {"referral_id": referral_id})
    connection.execute(
        _INSERT_AUDIT,
        {
            "at": clock.now(),
            "actor": "router",
            "action": "delivery_replayed",
            "case_id": None,
            "referral_id": referral_id,
            "detail": json.dumps(detail),
        },
    )
