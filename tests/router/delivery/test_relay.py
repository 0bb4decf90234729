"""The outbox relay on PostgreSQL and RabbitMQ: confirms, crashes, concurrency."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy import func, select

from router.delivery.broker import Publisher, Topology
from router.delivery.relay import backlog, relay_once
from router.persistence.tables import outbox
from tests.e2e.conftest import wait_for
from tests.factories import a_report
from tests.router.delivery.conftest import broker_environment
from tests.services import RABBITMQ_URL

ROOT = Path(__file__).resolve().parents[3]


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


def first_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line the process prints, or '' if none within `timeout`."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""

    return process.stdout.readline()


def test_a_relay_killed_between_confirms_and_marks_loses_nothing(
    caller, services, settings, receiver, worker, relay
):
    """A relay process killed (SIGKILL) after the broker confirmed its batch,
    before the rows were marked: the next pass publishes them all again, and
    the receiver, which gets both copies, stores each referral once."""
    file_reports(caller, 3, prefix="KILLED")
    rows = outbox_referrals(services)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.router.delivery.dying_relay"],
        cwd=ROOT,
        env={**os.environ, **broker_environment(settings)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first_line(process, timeout=30)
    finally:
        process.send_signal(signal.SIGKILL)
        _, errors = process.communicate(timeout=10)

    assert line == f"confirmed {len(rows)}\n", errors
    assert process.returncode == -signal.SIGKILL
    assert unpublished(services) == len(rows)
    # The killed backend's transaction, and its row locks, go with its socket.
    wait_for(lambda: relay() >= 0 and unpublished(services) == 0)
    wait_for(lambda: all(len(receiver.calls[r]) == 2 for r in rows))

    for referral_id, point in rows.items():
        assert receiver.calls[referral_id] == [200, 200]
        inbox = receiver.inbox_root / point
        assert (inbox / f"{referral_id}.json").exists()
    stored = sorted(path.stem for path in receiver.inbox_root.glob("*/*.json"))
    assert stored == sorted(rows)


class MeetingPublisher:
    """Holds its first batch, rows claimed, until the other relay holds one too.

    Each relay's claim transaction is open while it waits: both get past the
    barrier only if the second relay could claim rows beside the first's
    locked ones. Without `SKIP LOCKED` the second claim would wait for the
    first relay's commit, and the barrier would break.
    """

    def __init__(self, publisher: Publisher, barrier: threading.Barrier) -> None:
        self._publisher = publisher
        self._barrier = barrier
        self.first_batch: set[str] = set()
        self.published = 0

    def publish_batch(self, messages, on_confirm) -> None:
        if not self.first_batch:
            self.first_batch = {outgoing.referral_id for outgoing in messages}
            self._barrier.wait()

        def counted(outgoing) -> None:
            self.published += 1
            on_confirm(outgoing)

        self._publisher.publish_batch(messages, counted)


def test_two_relays_at_once_publish_each_row_once(caller, services, settings):
    """`SKIP LOCKED` lets two relays claim at the same moment, each its own rows;
    both publish, and every row reaches the broker once."""
    assert services.engine.dialect.name == "postgresql"
    file_reports(caller, 30)
    rows = outbox_referrals(services)
    barrier = threading.Barrier(2, timeout=15)
    publishers = [Publisher(settings), Publisher(settings)]
    relays = [MeetingPublisher(publisher, barrier) for publisher in publishers]
    failures: list[Exception] = []

    def relay_all(publisher) -> None:
        try:
            while relay_once(services.engine, publisher, services.clock, batch=10):
                pass
        except Exception as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    threads = [threading.Thread(target=relay_all, args=(r,)) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for publisher in publishers:
        publisher.close()

    assert failures == []
    first, second = relays
    assert len(first.first_batch) == len(second.first_batch) == 10
    assert not first.first_batch & second.first_batch
    assert first.published > 0 and second.published > 0
    assert first.published + second.published == len(rows)
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
