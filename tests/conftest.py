"""Fixtures, from the bottom up: clock, demo parties, database, services, app.

Every party, key and report here is synthetic; nothing describes a real
person, event or organisation.
"""

from __future__ import annotations

import io
import logging
import socket
import uuid
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from router.app import create_app
from router.clock import ManualClock
from router.config import load_settings
from router.content_keys import new_key_line
from router.demo import demo_directory
from router.directory import store_directory
from router.logs import configure_logging
from router.persistence.db import create_database_engine
from router.persistence.migrate import upgrade
from router.persistence.tables import metadata
from router.services import build_services
from router.signer import write_signing_key
from tests.helpers import Caller
from tests.services import create_postgres_database, drop_postgres_database

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CONTENT_KEYS = new_key_line("test-1")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def receiver_port() -> int:
    """The port of the demo contact points' webhook receiver in e2e tests."""
    return free_port()


@pytest.fixture(scope="session")
def demo(tmp_path_factory, receiver_port):
    """The synthetic demo directory with freshly made keys, and its parties."""
    instance = tmp_path_factory.mktemp("demo-parties")

    return demo_directory(instance, f"http://127.0.0.1:{receiver_port}")


@pytest.fixture(scope="session")
def router_key_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("router-key") / "router-signing.pem"
    write_signing_key(path)

    return path


@pytest.fixture(scope="session")
def postgres_url():
    """One PostgreSQL database for the session, migrated once."""
    url = create_postgres_database()
    engine = create_database_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    drop_postgres_database(url)


def _empty_tables(url: str) -> None:
    engine = create_database_engine(url)
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test that asks for it runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'router.db'}"
    url = request.getfixturevalue("postgres_url")
    _empty_tables(url)

    return url


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def settings(tmp_path, database_url, router_key_file):
    return load_settings(
        environ={},
        instance_dir=tmp_path,
        database_url=database_url,
        signing_key_file=router_key_file,
        public_base_url="http://localhost",
        queue_prefix=f"rrtest-{uuid.uuid4().hex[:8]}",
        content_keys=CONTENT_KEYS,
    )


@pytest.fixture
def services(settings, clock, demo):
    """The router's services on a migrated database holding the demo directory."""
    built = build_services(settings, clock=clock)
    upgrade(built.engine)
    document, _ = demo
    with built.engine.begin() as connection:
        store_directory(connection, document, clock.now())
    yield built
    built.engine.dispose()


@pytest.fixture
def app(services):
    return create_app(services)


@pytest.fixture
def parties(demo):
    return demo[1]


@pytest.fixture
def caller(app, parties, clock, settings):
    """Signs and sends calls through Flask's test client, as any party."""
    return Caller(app.test_client(), parties, clock, settings)


@pytest.fixture
def json_logs():
    """Every log line of the test, rendered as in production, at DEBUG."""
    lines = io.StringIO()
    configure_logging("json", "DEBUG", stream=lines)
    yield lines
    logging.getLogger().handlers.clear()


class Mailbox:
    """An SMTP handler that keeps what it receives, or refuses recipients."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.refuse_with: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.refuse_with:
            return self.refuse_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 Message accepted"


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()
