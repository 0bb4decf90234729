"""The broker: topology, connections and publishing with confirms.

RabbitMQ in production; kombu's in-process `memory://` transport in the
embedded mode, where relay and workers are threads of one process.

Topology, all durable, all quorum queues, declared by `Topology` and exported
as RabbitMQ definitions by `router.delivery.definitions`:
- `<prefix>.referrals`, a direct exchange keyed by contact point id, whose
  alternate exchange `<prefix>.unroutable` parks what no queue is bound for
  in the queue of that name; a second queue on it, `<prefix>.unroutable.alerts`,
  gets a copy of each, which the worker consumes to raise the alert while the
  message itself waits for `broker replay-parked`;
- one queue per contact point, `<prefix>.referrals.<contact point id>`, with
  an explicit delivery limit and at-least-once dead-lettering to
  `<prefix>.parked` (explicit, so that RabbitMQ 3.10 and 4.x behave alike);
- one retry tier per delay, `<prefix>.retry.<ms>ms`: a fanout exchange and a
  queue whose TTL dead-letters back to `<prefix>.referrals` under the
  message's own routing key, so a retried referral returns to its queue.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import amqp
from kombu import Connection, Exchange, Producer, Queue

from router.config import Settings

DELIVERY_LIMIT = 10
# Holding queues are read only by `broker replay-parked`; the explicit limit
# keeps 4.x (default 20, then dropped) and 3.10 (no limit) alike.
HOLDING_DELIVERY_LIMIT = 1000
ATTEMPTS_HEADER = "x-referral-attempts"
_RETRY_POLICY = {
    "max_retries": 3,
    "interval_start": 0.2,
    "interval_step": 0.5,
    "interval_max": 2.0,
}
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_AT_LEAST_ONCE = {
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


def looks_like_id(value: object) -> bool:
    """Whether a value read from a message may be logged as an id: the
    router's ids are short and plain, and anything else stays out of logs."""
    return isinstance(value, str) and _ID.match(value) is not None


@dataclass(frozen=True, slots=True)
class RetryTier:
    """One retry delay: publish to `exchange`, come back after `delay` seconds."""

    delay: float
    exchange: Exchange
    queue: Queue


class Topology:
    """The exchanges and queues of one router, named under its prefix."""

    def __init__(self, prefix: str, retry_delays: Sequence[float] = ()) -> None:
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
        self.unroutable_alerts_queue = self._holding_queue(
            self.unroutable, f"{self.unroutable.name}.alerts"
        )
        self.retry_tiers = tuple(self._retry_tier(delay) for delay in retry_delays)

    def _holding_queue(self, exchange: Exchange, name: str | None = None) -> Queue:
        return Queue(
            name or exchange.name,
            exchange=exchange,
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": HOLDING_DELIVERY_LIMIT,
            },
        )

    def _retry_tier(self, delay: float) -> RetryTier:
        milliseconds = max(1, round(delay * 1000))
        name = f"{self.prefix}.retry.{milliseconds}ms"
        exchange = Exchange(name, type="fanout", durable=True)
        queue = Queue(
            name,
            exchange=exchange,
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": milliseconds,
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": self.referrals.name,
                **_AT_LEAST_ONCE,
            },
        )

        return RetryTier(delay, exchange, queue)

    def contact_point_queue(self, contact_point_id: str) -> Queue:
        return Queue(
            self.contact_point_queue_name(contact_point_id),
            exchange=self.referrals,
            routing_key=contact_point_id,
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": self.parked.name,
                **_AT_LEAST_ONCE,
            },
        )

    def contact_point_queue_name(self, contact_point_id: str) -> str:
        return f"{self.prefix}.referrals.{contact_point_id}"

    def read_permission(self, contact_point_id: str) -> str:
        """The pattern of queues a contact point's broker user may read."""
        name = self.contact_point_queue_name(contact_point_id)

        return "^" + name.replace(".", r"\.") + "$"

    def holding_queues(self) -> tuple[Queue, ...]:
        """The queues where parked messages wait to be replayed."""
        return (self.parked_queue, self.unroutable_queue)

    def fixed_queues(self) -> tuple[Queue, ...]:
        """Every queue that is not a contact point's: holding, alerts, retries."""
        return (
            *self.holding_queues(),
            self.unroutable_alerts_queue,
            *(tier.queue for tier in self.retry_tiers),
        )

    def declare_holding(self, channel) -> None:
        """Declare the holding and alert queues and every retry tier.

        The alerts queue exists before anything is published, so that no
        unroutable message passes without its copy."""
        queues = self.fixed_queues()
        for queue in queues:
            queue.bind(channel).declare()


def topology_for(settings: Settings) -> Topology:
    return Topology(settings.queue_prefix, settings.retry_delays)


def connect(settings: Settings, *, confirm: bool = True) -> Connection:
    """A connection; with `confirm`, every publish waits for its confirm."""
    options = {"confirm_publish": True} if confirm else {}

    return Connection(
        settings.broker_url,
        connect_timeout=settings.broker_timeout,
        transport_options=options,
    )


def broker_reachable(settings: Settings) -> bool:
    try:
        with connect(settings) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001 - any failure means unreachable
        return False

    return True


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One referral message to publish: where, under which id, what bytes."""

    contact_point_id: str
    referral_id: str
    body: bytes


class ConfirmTimeout(Exception):
    """The broker did not confirm every message of a batch in time."""


class PublishRefused(Exception):
    """The broker answered a publish with a negative confirm."""


class Publisher:
    """Publishes referral messages and reports each one the broker confirmed.

    On RabbitMQ a batch is published with many confirms in flight, and each
    message is reported as confirmed only once its own confirm arrived (a
    multiple ack covers every tag up to its own). Elsewhere, as on the
    in-process transport, messages go one at a time.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._topology = topology_for(settings)
        self._pipelined = settings.broker_url.startswith(("amqp", "pyamqp"))
        self._connection = connect(settings, confirm=not self._pipelined)
        self._producer: Producer | None = None
        self._channel = None
        self._declared: set[str] = set()
        self._next_tag = 1
        self._waiting: dict[int, Outgoing] = {}
        self._on_confirm: Callable[[Outgoing], None] | None = None

    def publish(self, contact_point_id: str, referral_id: str, body: bytes) -> None:
        """Publish one message; returns only once the broker confirmed it."""
        outgoing = Outgoing(contact_point_id, referral_id, body)
        if self._pipelined:
            confirmed: list[Outgoing] = []
            self.publish_batch([outgoing], confirmed.append)
            if not confirmed:
                raise PublishRefused("the broker refused the message")
            return
        self._publish_one(outgoing)

    def publish_batch(
        self,
        messages: Sequence[Outgoing],
        on_confirm: Callable[[Outgoing], None],
    ) -> None:
        """Publish `messages`; call `on_confirm` for each the broker confirmed.

        Raises if the broker refused one, or did not confirm all in time; the
        messages confirmed before that have been reported already.
        """
        if not self._pipelined:
            for outgoing in messages:
                self._publish_one(outgoing)
                on_confirm(outgoing)
            return
        try:
            self._publish_pipelined(messages, on_confirm)
        except Exception:
            self._reset()
            raise

    def _publish_one(self, outgoing: Outgoing) -> None:
        producer = self._ensure_producer()
        producer.publish(
            outgoing.body,
            exchange=self._topology.referrals,
            routing_key=outgoing.contact_point_id,
            declare=[self._topology.contact_point_queue(outgoing.contact_point_id)],
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=outgoing.referral_id,
            headers={"referral_id": outgoing.referral_id},
            retry=True,
            retry_policy=_RETRY_POLICY,
        )

    def _publish_pipelined(self, messages, on_confirm) -> None:
        channel = self._confirm_channel()
        for point in {outgoing.contact_point_id for outgoing in messages}:
            if point not in self._declared:
                self._topology.contact_point_queue(point).bind(channel).declare()
                self._declared.add(point)
        self._on_confirm = on_confirm
        for outgoing in messages:
            message = amqp.Message(
                outgoing.body,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=outgoing.referral_id,
                application_headers={"referral_id": outgoing.referral_id},
            )
            channel.basic_publish(
                message,
                exchange=self._topology.referrals.name,
                routing_key=outgoing.contact_point_id,
            )
            self._waiting[self._next_tag] = outgoing
            self._next_tag += 1
        deadline = time.monotonic() + self._settings.broker_timeout
        while self._waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConfirmTimeout(f"{len(self._waiting)} messages unconfirmed")
            self._connection.drain_events(timeout=remaining)

    def _confirm_channel(self):
        if self._channel is None:
            self._connection.ensure_connection(max_retries=3)
            channel = self._connection.channel()
            self._topology.declare_holding(channel)
            channel.confirm_select()
            channel.events["basic_ack"].add(self._acked)
            channel.events["basic_nack"].add(self._nacked)
            self._channel = channel
            self._next_tag = 1

        return self._channel

    def _settled(self, delivery_tag: int, multiple: bool) -> list[Outgoing]:
        tags = (
            [tag for tag in self._waiting if tag <= delivery_tag]
            if multiple
            else [delivery_tag]
        )

        return [self._waiting.pop(tag) for tag in sorted(tags) if tag in self._waiting]

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        for outgoing in self._settled(delivery_tag, multiple):
            self._on_confirm(outgoing)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        # A refused message stays unconfirmed: its outbox row is tried again.
        self._settled(delivery_tag, multiple)

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            channel = self._connection.default_channel
            self._topology.declare_holding(channel)
            self._producer = Producer(channel)

        return self._producer

    def _reset(self) -> None:
        """Forget the channel after a failure; the next batch reconnects."""
        self._waiting.clear()
        self._declared.clear()
        self._channel = None
        self._connection.release()
        self._connection = connect(self._settings, confirm=False)

    def close(self) -> None:
        self._producer = None
        self._channel = None
        self._connection.release()
