"""The outbox relay on PostgreSQL and RabbitMQ: confirms, crashes, concurrency."""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest
from kombu import Connection
from sqlalchemy import func, select

from router.delivery.broker import Publisher, Topology
from router.delivery.relay import backlog, relay_once
from router.persistence.tables import outbox
from tests.factories import a_report
from tests.services import RABBITMQ_URL


class Crash(Exception):
    """Stands for the relay process dying."""


class DyingPublisher:
    """Publishes the first `survive` messages of a batch, then dies."""

    def __init__(self, publisher, survive: int) -> None:
        self._publisher = publisher
        self._survive = survive

    def publish_batch(self, messages, on_confirm) -> None:
        self._publisher.publish_batch(messages[: self._survive], on_confirm)
        raise Crash()


def file_reports(caller, count: int, prefix: str = "RELAY") -> None:
    for number in range(count):
        answer = caller.file("hl-at-demo", a_report(f"{prefix}-{number:04d}"))
        assert answer.status_code == 201, answer.text


def unpublished(services) -> int:
    query = select(func.count()).where(outbox.c.published_at.is_(None))
    with services.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def outbox_referrals(services) -> dict[str, str]:
    query = select(outbox.c.referral_id, outbox.c.contact_point_id)
    with services.engine.connect() as connection:
        return dict(connection.execute(query).all())


def drain(settings, contact_point_ids) -> Counter:
    """Every referral id waiting in the contact points' queues, counted."""
    topology = Topology(settings.queue_prefix)
    seen: Counter = Counter()
    with Connection(RABBITMQ_URL) as connection:
        channel = connection.default_channel
        for point in set(contact_point_ids):
            queue = topology.contact_point_queue(point).bind(channel)
            while (message := queue.get(no_ack=True)) is not None:
                seen[json.loads(message.body)["referral_id"]] += 1

    return seen


def test_a_relay_crash_keeps_every_unconfirmed_row_for_the_next_pass(
    caller, services, publisher, settings
):
    """Rows confirmed before the crash are marked; the others follow, once."""
    file_reports(caller, 5)
    rows = outbox_referrals(services)
    dying = DyingPublisher(publisher, survive=7)

    with pytest.raises(Crash):
        relay_once(services.engine, dying, services.clock)
    left_after_crash = unpublished(services)
    relay_once(services.engine, publisher, services.clock)

    assert left_after_crash == len(rows) - 7
    assert unpublished(services) == 0
    assert drain(settings, rows.values()) == Counter(dict.fromkeys(rows, 1))


def test_two_relays_at_once_publish_each_row_once(caller, services, settings):
    """`SKIP LOCKED` hands each row to one relay only."""
    file_reports(caller, 30)
    rows = outbox_referrals(services)
    publishers = [Publisher(settings), Publisher(settings)]

    def relay_all(publisher) -> None:
        while relay_once(services.engine, publisher, services.clock, batch=10):
            pass

    threads = [threading.Thread(target=relay_all, args=(p,)) for p in publishers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for publisher in publishers:
        publisher.close()

    assert unpublished(services) == 0
    assert drain(settings, rows.values()) == Counter(dict.fromkeys(rows, 1))


def test_the_backlog_counts_waiting_rows_and_the_age_of_the_oldest(
    caller, services, clock
):
    """Waiting rows and the oldest one's age, for monitoring."""
    file_reports(caller, 2)
    clock.advance(seconds=90)

    waiting = backlog(services.engine, clock)

    assert waiting == {
        "waiting": len(outbox_referrals(services)),
        "oldest_age_seconds": 90,
    }
