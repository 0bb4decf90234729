"""Access to the real PostgreSQL and RabbitMQ of the test machine.

Under CI (`CI=true`) or with `REQUIRE_SERVICES=1`, a missing server fails the
run; elsewhere the tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
RABBITMQ_URL = os.environ.get(
    "TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"
)


def services_required() -> bool:
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("REQUIRE_SERVICES") == "1"
    )


def unavailable(what: str, error: Exception):
    message = f"{what} is not reachable: {type(error).__name__}: {error}"
    if services_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def create_postgres_database() -> str:
    """A fresh, empty database; returns its SQLAlchemy URL."""
    name = f"rr_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        unavailable("PostgreSQL", error)

    return (
        POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
            "postgresql://", "postgresql+psycopg://"
        )
        + f"/{name}"
    )


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def check_rabbitmq() -> None:
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:  # noqa: BLE001 - any failure is unavailability
        unavailable("RabbitMQ", error)


def delete_rabbitmq_topology(
    prefix: str, contact_point_ids, retry_delays=(10.0, 60.0, 600.0), url=None
) -> None:
    """Delete the queues and exchanges a test router declared under `prefix`
    (on `url`, by default the test broker)."""
    from kombu import Connection

    from router.delivery.broker import Topology

    topology = Topology(prefix, retry_delays)
    queues = [topology.contact_point_queue(point) for point in contact_point_ids]
    queues += topology.fixed_queues()
    exchanges = [topology.referrals, topology.parked, topology.unroutable]
    exchanges += [tier.exchange for tier in topology.retry_tiers]
    with Connection(url or RABBITMQ_URL) as connection:
        channel = connection.default_channel
        for queue in queues:
            channel.queue_delete(queue.name)
        for exchange in exchanges:
            channel.exchange_delete(exchange.name)
