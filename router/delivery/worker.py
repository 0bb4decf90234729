"""The connector worker: consumes contact points' queues, delivers through
their channel, and records the delivery.

A message is acknowledged to the broker only after its channel accepted it,
or after a copy of it is safely on a retry tier (confirmed by the broker).
A destination that may accept later (`RetryLater`) gets the message back
after each tier's delay, counted in the `x-referral-attempts` header; after
the last tier, or on a `PermanentFailure`, the message is rejected without
requeue and the broker dead-letters it to the parked queue. Parking raises
an alert: a `delivery_parked` log line and an audit entry, never content.

On RabbitMQ the worker also reads `<prefix>.unroutable.alerts`, the copy of
every message that no contact point's queue was bound for: it raises the same
alert as parking (a `delivery_unroutable` error log line with ids only, an
audit entry, the referral's delivery status `parked`) while the message itself
waits in `<prefix>.unroutable` for `broker replay-parked`.

On the in-process transport, which knows no TTL and no dead-lettering, the
channel retries in process (`WEBHOOK_ATTEMPTS`) and a parked referral is only
recorded; `broker replay-parked` republishes it from the outbox.
"""

from __future__ import annotations

import json

import structlog
from kombu import Connection, Producer
from kombu.mixins import ConsumerMixin
from sqlalchemy import bindparam, case, insert, update

from connectors.base import Channel, Delivery
from connectors.email_notice import EmailNoticeChannel
from connectors.webhook import WebhookChannel
from router.config import Settings
from router.delivery.broker import (
    ATTEMPTS_HEADER,
    connect,
    looks_like_id,
    topology_for,
)
from router.errors import PermanentFailure, RetryLater
from router.logs import bind_referral, start_message
from router.persistence.tables import audit_entries, referrals

log = structlog.get_logger(__name__)

_MARK_DELIVERED = (
    update(referrals)
    .where(referrals.c.id == bindparam("referral_id"))
    .values(
        delivery_status="delivered",
        delivered_at=case(
            (referrals.c.delivered_at.is_(None), bindparam("now")),
            else_=referrals.c.delivered_at,
        ),
        state=case(
            (referrals.c.state == "routed", "delivered"), else_=referrals.c.state
        ),
    )
)
_SET_DELIVERY_STATUS = (
    update(referrals)
    .where(
        referrals.c.id == bindparam("referral_id"),
        referrals.c.delivery_status != "delivered",
    )
    .values(delivery_status=bindparam("status"))
)
_INSERT_AUDIT = insert(audit_entries)
_RETRY_POLICY = {"max_retries": 3, "interval_start": 0.2, "interval_max": 2.0}


class RetryScheduler:
    """Puts a referral on a retry tier, to return to its queue after a delay."""

    def __init__(self, settings: Settings) -> None:
        self._topology = topology_for(settings)
        self._connection = connect(settings)
        self._producer: Producer | None = None

    @property
    def tiers(self) -> int:
        return len(self._topology.retry_tiers)

    def schedule(self, delivery: Delivery, attempt: int) -> float:
        """Publish attempt number `attempt + 1`; returns once confirmed."""
        tier = self._topology.retry_tiers[attempt]
        if self._producer is None:
            self._producer = Producer(self._connection.default_channel)
        self._producer.publish(
            delivery.body,
            exchange=tier.exchange,
            routing_key=delivery.contact_point_id,
            declare=[tier.queue],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=delivery.referral_id,
            headers={
                "referral_id": delivery.referral_id,
                ATTEMPTS_HEADER: attempt + 1,
            },
            retry=True,
            retry_policy=_RETRY_POLICY,
        )

        return tier.delay

    def close(self) -> None:
        self._producer = None
        self._connection.release()


class ConnectorWorker(ConsumerMixin):
    """Delivers the referrals of every contact point served by `channels`."""

    def __init__(
        self,
        connection: Connection,
        services,
        channels: dict[str, Channel],
        retries: RetryScheduler | None = None,
        *,
        watch_unroutable: bool = False,
    ):
        self.connection = connection
        self._services = services
        self._channels = channels
        self._retries = retries
        self._watch_unroutable = watch_unroutable
        self._topology = topology_for(services.settings)
        self._consumer = None

    def get_consumers(self, Consumer, channel):
        self._topology.declare_holding(channel)
        self._consumer = Consumer(
            queues=self._wanted_queues(),
            callbacks=[self.on_message],
            accept=["application/json"],
            prefetch_count=10,
        )
        consumers = [self._consumer]
        if self._watch_unroutable:
            consumers.append(
                Consumer(
                    queues=[self._topology.unroutable_alerts_queue],
                    on_message=self.on_unroutable,
                    prefetch_count=10,
                )
            )

        return consumers

    def on_iteration(self) -> None:
        """Start consuming the queues of contact points added since the start.

        The directory snapshot is cached, so this costs a set comparison most
        of the time; a new contact point is served within the cache's age.
        """
        if self._consumer is None:
            return
        served = {queue.name for queue in self._consumer.queues}
        added = [q for q in self._wanted_queues() if q.name not in served]
        for queue in added:
            self._consumer.add_queue(queue)
        if added:
            self._consumer.consume()
            log.info("queues_added", count=len(added))

    def _wanted_queues(self) -> list:
        points = self._services.directory.current().contact_points.values()

        return [
            self._topology.contact_point_queue(point.id)
            for point in points
            if point.channel in self._channels
        ]

    def on_message(self, _decoded, message) -> None:
        start_message()
        try:
            delivery = self._delivery_of(message.body)
        except (ValueError, KeyError, TypeError) as error:
            log.error("message_unreadable", error_type=type(error).__name__)
            message.reject(requeue=False)
            return

        bind_referral(delivery.referral_id)
        channel = self._channel_for(delivery)
        try:
            channel.deliver(delivery)
        except RetryLater as error:
            self._retry_or_park(delivery, message, channel.name, str(error))
            return
        except PermanentFailure as error:
            self._park(delivery, message, channel.name, str(error))
            return

        self._record(delivery, "referral_delivered", channel=channel.name)
        log.info("referral_delivered", channel=channel.name)
        message.ack()

    def on_unroutable(self, message) -> None:
        """A copy of a message no queue took: alert, as for a parked one.

        The message itself stays in the unroutable queue; this copy is only
        the alarm, acknowledged once the alert is recorded."""
        start_message()
        body = message.body
        body = body.encode() if isinstance(body, str) else bytes(body)
        try:
            parsed = json.loads(body)
            referral_id = parsed["referral_id"]
            contact_point_id = parsed["contact_point_id"]
            if not (looks_like_id(referral_id) and looks_like_id(contact_point_id)):
                raise ValueError("not an id")
        except (ValueError, KeyError, TypeError) as error:
            log.error("delivery_unroutable_unreadable", error_type=type(error).__name__)
            message.ack()
            return

        bind_referral(referral_id)
        queue = self._topology.unroutable_queue.name
        delivery = Delivery(referral_id, contact_point_id, None, b"")
        self._record(
            delivery,
            "delivery_unroutable",
            status="parked",
            contact_point_id=contact_point_id,
            queue=queue,
        )
        log.error("delivery_unroutable", contact_point_id=contact_point_id, queue=queue)
        message.ack()

    def _retry_or_park(self, delivery, message, channel_name, reason) -> None:
        attempt = _attempts_of(message)
        if self._retries is None or attempt >= self._retries.tiers:
            self._park(delivery, message, channel_name, reason, attempts=attempt + 1)
            return

        delay = self._retries.schedule(delivery, attempt)
        self._record(
            delivery,
            "delivery_retrying",
            status="retrying",
            channel=channel_name,
            attempt=attempt + 1,
            retry_in_seconds=delay,
            reason=reason,
        )
        log.warning(
            "delivery_retrying",
            channel=channel_name,
            attempt=attempt + 1,
            retry_in_seconds=delay,
            reason=reason,
        )
        message.ack()

    def _park(self, delivery, message, channel_name, reason, **detail) -> None:
        self._record(
            delivery,
            "delivery_parked",
            status="parked",
            channel=channel_name,
            reason=reason,
            **detail,
        )
        log.error("delivery_parked", channel=channel_name, reason=reason, **detail)
        message.reject(requeue=False)

    def _channel_for(self, delivery: Delivery) -> Channel:
        point = self._services.directory.current().contact_points[
            delivery.contact_point_id
        ]

        return self._channels[point.channel]

    def _delivery_of(self, body: bytes | str) -> Delivery:
        # py-amqp hands over text when the message declares an encoding.
        body = body.encode() if isinstance(body, str) else bytes(body)
        parsed = json.loads(body)
        point = self._services.directory.current().contact_points[
            parsed["contact_point_id"]
        ]
        address = point.email if point.channel == "pull" else point.webhook_url

        return Delivery(
            referral_id=parsed["referral_id"],
            contact_point_id=point.id,
            address=address,
            body=body,
        )

    def _record(self, delivery, action, *, status="delivered", **detail) -> None:
        now = self._services.clock.now()
        with self._services.engine.begin() as connection:
            if status == "delivered":
                connection.execute(
                    _MARK_DELIVERED,
                    {"referral_id": delivery.referral_id, "now": now},
                )
            else:
                connection.execute(
                    _SET_DELIVERY_STATUS,
                    {"referral_id": delivery.referral_id, "status": status},
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


def _attempts_of(message) -> int:
    try:
        return int((message.headers or {}).get(ATTEMPTS_HEADER, 0))
    except (TypeError, ValueError):
        return 0


def build_worker(services) -> ConnectorWorker:
    """The worker with the channels and retry tiers that the settings name."""
    settings = services.settings
    in_process = settings.is_in_process_broker
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(
            services.signer,
            services.clock,
            timeout=settings.webhook_timeout,
            attempts=settings.webhook_attempts if in_process else 1,
        )
    }
    email = email_channel(settings)
    if email is not None:
        channels["pull"] = email
    retries = None if in_process else RetryScheduler(settings)

    return ConnectorWorker(
        Connection(settings.broker_url),
        services,
        channels,
        retries,
        watch_unroutable=not in_process,
    )


def email_channel(settings: Settings) -> EmailNoticeChannel | None:
    """The e-mail notice channel, when the settings name an SMTP host."""
    if not settings.smtp_host:
        return None

    return EmailNoticeChannel(
        settings.smtp_host,
        settings.smtp_port,
        sender=settings.smtp_sender,
        timeout=settings.webhook_timeout,
    )
