"""The broker: topology, connections and publishing with confirms.

RabbitMQ in production; kombu's in-process `memory://` transport in the
embedded mode, where relay and workers are threads of one process.

Topology, all durable:
- `<prefix>.referrals`, a direct exchange keyed by contact point id, whose
  alternate exchange `<prefix>.unroutable` parks what no queue is bound for;
- one quorum queue per contact point, `<prefix>.referrals.<contact point id>`,
  with an explicit delivery limit and at-least-once dead-lettering to
  `<prefix>.parked`.
"""

from __future__ import annotations

from kombu import Connection, Exchange, Producer, Queue

from router.config import Settings

DELIVERY_LIMIT = 10
_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 2.0,
}


class Topology:
    """The exchanges and queues of one router, named under its prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.parked = Exchange(f"{prefix}.parked", type="fanout", durable=True)
        self.unroutable = Exchange(f"{prefix}.unroutable", type="fanout", durable=True)
        self.referrals = Exchange(
            f"{prefix}.referrals",
            type="direct",
            durable=True,
            arguments={"alternate-exchange": self.unroutable.name},
        )
        self.parked_queue = self._holding_queue(self.parked)
        self.unroutable_queue = self._holding_queue(self.unroutable)

    def _holding_queue(self, exchange: Exchange) -> Queue:
        return Queue(
            exchange.name,
            exchange=exchange,
            durable=True,
            queue_arguments={"x-queue-type": "quorum"},
        )

    def contact_point_queue(self, contact_point_id: str) -> Queue:
        return Queue(
            f"{self.prefix}.referrals.{contact_point_id}",
            exchange=self.referrals,
            routing_key=contact_point_id,
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": self.parked.name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )

    def declare_holding(self, channel) -> None:
        for queue in (self.parked_queue, self.unroutable_queue):
            queue.bind(channel).declare()


def connect(settings: Settings) -> Connection:
    """A connection that waits for the broker's confirm on every publish."""
    return Connection(
        settings.broker_url,
        connect_timeout=settings.broker_timeout,
        transport_options={"confirm_publish": True},
    )


def broker_reachable(settings: Settings) -> bool:
    try:
        with connect(settings) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - any failure means unreachable
        return False

    return True


class Publisher:
    """Publishes referral messages; returns only once the broker confirmed."""

    def __init__(self, settings: Settings) -> None:
        self._connection = connect(settings)
        self._topology = Topology(settings.queue_prefix)
        self._producer: Producer | None = None

    def publish(self, contact_point_id: str, referral_id: str, body: bytes) -> None:
        producer = self._ensure_producer()
        producer.publish(
            body,
            exchange=self._topology.referrals,
            routing_key=contact_point_id,
            declare=[self._topology.contact_point_queue(contact_point_id)],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=referral_id,
            headers={"referral_id": referral_id},
            retry=True,
            retry_policy=_RETRY_POLICY,
        )

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            channel = self._connection.default_channel
            self._topology.declare_holding(channel)
            self._producer = Producer(channel)

        return self._producer

    def close(self) -> None:
        self._producer = None
        self._connection.release()
