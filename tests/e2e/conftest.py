"""A whole router running in this process, over real HTTP, on each backend.

`embedded`: SQLite and kombu's in-process transport, as `referral-router run`.
`production`: PostgreSQL and RabbitMQ, the same code as the separate processes.
"""

from __future__ import annotations

import time
import uuid

import pytest

from connectors.client import SignedClient
from router.config import load_settings
from router.demo import DEMO_KID, demo_directory
from router.embedded import start_embedded
from tests.conftest import _empty_tables, free_port
from tests.services import RABBITMQ_URL, check_rabbitmq, delete_rabbitmq_topology


@pytest.fixture(params=["embedded", "production"])
def backend(request):
    return request.param


@pytest.fixture
def router_settings(backend, tmp_path, router_key_file, request):
    port = free_port()
    overrides = {
        "instance_dir": tmp_path,
        "signing_key_file": router_key_file,
        "public_base_url": f"http://127.0.0.1:{port}",
        "queue_prefix": f"rrtest-{uuid.uuid4().hex[:8]}",
        "database_url": f"sqlite:///{tmp_path / 'router.db'}",
        "relay_interval": 0.05,
        "clock_interval": 3600,
        "webhook_attempts": 2,
    }
    if backend == "production":
        check_rabbitmq()
        overrides["database_url"] = request.getfixturevalue("postgres_url")
        overrides["broker_url"] = RABBITMQ_URL
        _empty_tables(overrides["database_url"])

    return load_settings(environ={}, **overrides), port


@pytest.fixture
def running(router_settings, clock, backend):
    """The router with its relay, worker, clock and demo contact points."""
    settings, port = router_settings
    started = start_embedded(
        settings, port=port, receiver_port=free_port(), demo=True, clock=clock
    )
    yield started
    started.stop()
    started.services.engine.dispose()
    if backend == "production":
        points = started.services.directory.current().contact_points
        delete_rabbitmq_topology(settings.queue_prefix, points)


@pytest.fixture
def e2e_parties(running):
    instance = running.services.settings.instance_dir
    _, parties = demo_directory(instance, running.receiver_url)

    return parties


@pytest.fixture
def client_for(running, e2e_parties, clock):
    """A real HTTP client signing as the given party."""

    def make(party_id: str) -> SignedClient:
        return SignedClient(
            running.url,
            running.services.settings.router_id,
            party_id,
            DEMO_KID,
            e2e_parties[party_id].signing_key,
            clock,
        )

    return make


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll until `predicate()` is truthy; fail with a clear message if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
