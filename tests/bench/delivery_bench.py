"""Benchmark of delivery: referrals per second from outbox to receiver.

Run with `python -m tests.bench.delivery_bench` (PostgreSQL and RabbitMQ as
for the tests; `TEST_POSTGRES_URL`, `TEST_RABBITMQ_URL`, or `--rabbitmq-url`;
`--count` referrals). It prints figures and asserts nothing. Everything is
synthetic: one invented case, sealed to a demo contact point's fresh key.

- outbox to receiver: the relay publishes committed outbox rows (pipelined
  confirms, each row marked after its own confirm); the receiver kit (pika)
  opens each message, writes it once to an inbox (fsync) and acks it;
- relay alone: the same rows, outbox to confirmed on the broker;
- raw publish with confirms: messages of the same size straight to a quorum
  queue with py-amqp, one confirm at a time and 100 in flight.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import amqp
from kombu import Connection
from sqlalchemy import insert, update

from connectors.inbox import Inbox
from connectors.receiver_kit import ReceiverKit
from contracts.sealing import public_key_from_text, seal
from router.clock import SystemClock
from router.config import load_settings
from router.delivery.broker import Publisher, topology_for
from router.delivery.relay import relay_once
from router.demo import demo_directory
from router.directory import store_directory
from router.logs import configure_logging
from router.persistence.db import create_database_engine
from router.persistence.migrate import upgrade
from router.persistence.tables import cases, outbox, referrals
from tests.factories import a_report
from tests.services import (
    RABBITMQ_URL,
    create_postgres_database,
    delete_rabbitmq_topology,
    drop_postgres_database,
)

CONTACT_POINT = "cp-th-police"
HOTLINE = "hl-at-demo"


def fill_outbox(engine, public_key: str, count: int) -> int:
    """One synthetic case with `count` referrals, each with its outbox row."""
    now = datetime.now(UTC)
    case_id = str(uuid.uuid4())
    content = {"hotline_id": HOTLINE, "report": a_report("BENCH-0001")}
    referral_rows, outbox_rows = [], []
    for _ in range(count):
        referral_id = str(uuid.uuid4())
        referral_rows.append(_referral(referral_id, case_id, now))
        message = {
            "protocol": "1",
            "referral_id": referral_id,
            "case_id": case_id,
            "contact_point_id": CONTACT_POINT,
            "role": "lead",
            "routed_at": now.isoformat(),
            "ack_due_at": (now + timedelta(hours=48)).isoformat(),
            "content": seal(public_key_from_text(public_key), content),
        }
        outbox_rows.append(
            {
                "referral_id": referral_id,
                "contact_point_id": CONTACT_POINT,
                "payload": json.dumps(message, separators=(",", ":")).encode(),
                "created_at": now,
                "published_at": None,
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(cases), [_case(case_id, now)])
        connection.execute(insert(referrals), referral_rows)
        connection.execute(insert(outbox), outbox_rows)

    return len(outbox_rows[0]["payload"])


def _case(case_id: str, now: datetime) -> dict:
    return {
        "id": case_id,
        "hotline_id": HOTLINE,
        "reference": "BENCH-0001",
        "body_sha256": "0" * 64,
        "received_at": now,
        "routed_at": now,
        "category": "travel_tourism_offence",
        "immediate_danger": False,
        "incident_country": "TH",
        "rule_set_version": "bench",
        "content": "bench:synthetic",
    }


def _referral(referral_id: str, case_id: str, now: datetime) -> dict:
    return {
        "id": referral_id,
        "case_id": case_id,
        "contact_point_id": CONTACT_POINT,
        "role": "lead",
        "state": "routed",
        "rule_id": "bench",
        "routed_at": now,
        "ack_due_at": now + timedelta(hours=48),
    }


def relay_all(engine, publisher, clock) -> None:
    while relay_once(engine, publisher, clock):
        pass


def outbox_to_receiver(settings, engine, private_key, count, inbox_dir) -> float:
    """Seconds from the first relay pass to the receiver's last ack."""
    topology = topology_for(settings)
    with Connection(settings.broker_url) as connection:
        topology.contact_point_queue(CONTACT_POINT).bind(
            connection.default_channel
        ).declare()
    queue = topology.contact_point_queue_name(CONTACT_POINT)
    kit = ReceiverKit(
        settings.broker_url, queue, private_key, Inbox(inbox_dir), prefetch=200
    )
    handled: list[int] = []
    receiver = threading.Thread(
        target=lambda: handled.append(kit.consume(max_messages=count, idle_timeout=30))
    )
    publisher = Publisher(settings)
    publisher.publish("cp-bench-warmup", "warmup", b"{}")  # connect and declare
    started = time.perf_counter()
    receiver.start()
    relay_all(engine, publisher, SystemClock())
    receiver.join()
    elapsed = time.perf_counter() - started
    publisher.close()
    if handled != [count]:
        raise SystemExit(f"the receiver handled {handled}, expected {count}")

    return elapsed


def relay_alone(settings, engine, count) -> float:
    with engine.begin() as connection:
        connection.execute(update(outbox).values(published_at=None))
    publisher = Publisher(settings)
    publisher.publish("cp-bench-warmup", "warmup", b"{}")
    started = time.perf_counter()
    relay_all(engine, publisher, SystemClock())
    elapsed = time.perf_counter() - started
    publisher.close()

    return elapsed


def raw_publish(url: str, queue: str, size: int, count: int, in_flight: int) -> float:
    """Seconds to publish `count` messages with `in_flight` confirms pending,
    with py-amqp on the broker at `url` (the same as the relay's)."""
    with Connection(url) as broker:
        # kombu only parses the URL and connects: the channel is py-amqp's own.
        return _raw_publish(broker.connection, queue, size, count, in_flight)


def _raw_publish(connection, queue: str, size: int, count: int, in_flight: int):
    channel = connection.channel()
    channel.queue_declare(
        queue, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"}
    )
    channel.confirm_select()
    confirmed = [0]

    def acked(tag, multiple):
        confirmed[0] = max(confirmed[0], tag)

    channel.events["basic_ack"].add(acked)
    body = b"x" * size
    started = time.perf_counter()
    for tag in range(1, count + 1):
        channel.basic_publish(amqp.Message(body, delivery_mode=2), "", queue)
        while tag - confirmed[0] >= in_flight:
            connection.drain_events(timeout=10)
    while confirmed[0] < count:
        connection.drain_events(timeout=10)
    elapsed = time.perf_counter() - started
    channel.queue_delete(queue)
    channel.close()

    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument(
        "--rabbitmq-url",
        default=RABBITMQ_URL,
        help="the broker (default: TEST_RABBITMQ_URL, else guest on 127.0.0.1)",
    )
    arguments = parser.parse_args()
    count, broker_url = arguments.count, arguments.rabbitmq_url
    configure_logging("console", "WARNING")
    url = create_postgres_database()
    prefix = f"rrbench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            environ={}, database_url=url, broker_url=broker_url, queue_prefix=prefix
        )
        engine = create_database_engine(url)
        try:
            upgrade(engine)
            document, parties = demo_directory(Path(folder), "http://127.0.0.1:9")
            with engine.begin() as connection:
                store_directory(connection, document, datetime.now(UTC))
            party = parties[CONTACT_POINT]
            public = next(
                entry["encryption_key"]
                for entry in document["contact_points"]
                if entry["id"] == CONTACT_POINT
            )
            size = fill_outbox(engine, public, count)
            end_to_end = outbox_to_receiver(
                settings,
                engine,
                party.encryption_private_key,
                count,
                Path(folder) / "inbox",
            )
            relay = relay_alone(settings, engine, count)
            raw = f"{prefix}.raw"
            one = raw_publish(broker_url, raw, size, count, in_flight=1)
            hundred = raw_publish(broker_url, raw, size, count, in_flight=100)
        finally:
            engine.dispose()
            delete_rabbitmq_topology(
                prefix, [CONTACT_POINT, "cp-bench-warmup"], url=broker_url
            )
            drop_postgres_database(url)

    rate = count / end_to_end
    print(f"{count} referrals of {size} bytes, one contact point, quorum queues")
    print(f"outbox to receiver (relay, broker, receiver kit): {rate:>8,.0f} /s")
    print(f"relay alone (outbox to confirmed):               {count / relay:>8,.0f} /s")
    print(f"raw publish, one confirm at a time:              {count / one:>8,.0f} /s")
    print(
        f"raw publish, 100 confirms in flight:             {count / hundred:>8,.0f} /s"
    )
    ratio = rate / (count / hundred)
    print(f"ratio outbox-to-receiver / raw (100 in flight):  {ratio:>8.2f}")


if __name__ == "__main__":
    main()
