"""The connector worker: consumes contact points' queues, delivers through
their channel, and records the delivery.

A message is acknowledged to the broker only after its channel accepted it.
One the channel cannot deliver after its bounded retries, or that cannot be
read at all, is rejected without requeue: the broker dead-letters it to the
parked queue, and the audit log says so.
"""

from __future__ import annotations

import json

import structlog
from kombu import Connection
from kombu.mixins import ConsumerMixin
from sqlalchemy import bindparam, case, insert, update

from connectors.base import Channel, Delivery
from router.delivery.broker import Topology
from router.errors import DeliveryError
from router.logs import bind_referral
from router.persistence.tables import audit_entries, referrals

log = structlog.get_logger(__name__)

_MARK_DELIVERED = (
    update(referrals)
    .where(
        referrals.c.id == bindparam("referral_id"),
        referrals.c.delivered_at.is_(None),
    )
    .values(
        delivered_at=bindparam("now"),
        state=case(
            (referrals.c.state == "routed", "delivered"), else_=referrals.c.state
        ),
    )
)
_INSERT_AUDIT = insert(audit_entries)


class ConnectorWorker(ConsumerMixin):
    """Delivers the referrals of every contact point served by `channels`."""

    def __init__(self, connection: Connection, services, channels: dict[str, Channel]):
        self.connection = connection
        self._services = services
        self._channels = channels
        self._topology = Topology(services.settings.queue_prefix)

    def get_consumers(self, Consumer, channel):
        # TODO: contact points added to the directory while the worker runs are
        # consumed only after a restart; the worker reads the directory once.
        points = self._services.directory.current().contact_points.values()
        queues = [
            self._topology.contact_point_queue(point.id)
            for point in points
            if point.channel in self._channels
        ]
        self._topology.declare_holding(channel)

        return [
            Consumer(
                queues=queues,
                callbacks=[self.on_message],
                accept=["application/json"],
                prefetch_count=10,
            )
        ]

    def on_message(self, _decoded, message) -> None:
        try:
            delivery = self._delivery_of(message.body)
        except (ValueError, KeyError, TypeError) as error:
            log.error("message_unreadable", error_type=type(error).__name__)
            message.reject(requeue=False)
            return

        bind_referral(delivery.referral_id)
        point = self._services.directory.current().contact_points[
            delivery.contact_point_id
        ]
        channel = self._channels[point.channel]
        try:
            channel.deliver(delivery)
        except DeliveryError as error:
            self._record(delivery, "delivery_parked", reason=str(error))
            log.error("delivery_parked", channel=channel.name, reason=str(error))
            message.reject(requeue=False)
            return

        self._record(delivery, "referral_delivered", channel=channel.name)
        log.info("referral_delivered", channel=channel.name)
        message.ack()

    def _delivery_of(self, body: bytes | str) -> Delivery:
        # py-amqp hands over text when the message declares an encoding.
        body = body.encode() if isinstance(body, str) else bytes(body)
        parsed = json.loads(body)
        point = self._services.directory.current().contact_points[
            parsed["contact_point_id"]
        ]

        return Delivery(
            referral_id=parsed["referral_id"],
            contact_point_id=point.id,
            address=point.webhook_url,
            body=body,
        )

    def _record(self, delivery: Delivery, action: str, **detail) -> None:
        now = self._services.clock.now()
        with self._services.engine.begin() as connection:
            if action == "referral_delivered":
                connection.execute(
                    _MARK_DELIVERED,
                    {"referral_id": delivery.referral_id, "now": now},
                )
            connection.execute(
                _INSERT_AUDIT,
                {
                    "at": now,
                    "actor": "router",
                    "action": action,
                    "case_id": None,
                    "referral_id": delivery.referral_id,
                    "detail": json.dumps(detail),
                },
            )
