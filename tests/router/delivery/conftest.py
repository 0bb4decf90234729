"""Delivery on the real RabbitMQ and PostgreSQL: a router's services, a
webhook receiver whose answers a test scripts, and a worker in a thread.

Every report and party here is synthetic.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections import defaultdict, deque

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from connectors.inbox import Inbox
from connectors.webhook_receiver import ReceivingParty, create_receiver_app
from router.auth import PartyKey
from router.cli import main
from router.config import load_settings
from router.delivery.broker import Publisher
from router.delivery.relay import relay_once
from router.delivery.worker import build_worker
from tests.conftest import CONTENT_KEYS
from tests.helpers import cli_environment
from tests.services import RABBITMQ_URL, check_rabbitmq, delete_rabbitmq_topology

RETRY_DELAYS = (0.05, 0.1)


@pytest.fixture
def database_url(postgres_url):
    """Delivery tests run on PostgreSQL only, beside the real broker."""
    from tests.conftest import _empty_tables

    _empty_tables(postgres_url)

    return postgres_url


@pytest.fixture
def settings(tmp_path, database_url, router_key_file, demo):
    check_rabbitmq()
    prefix = f"rrtest-{uuid.uuid4().hex[:8]}"
    yield load_settings(
        environ={},
        instance_dir=tmp_path,
        database_url=database_url,
        broker_url=RABBITMQ_URL,
        signing_key_file=router_key_file,
        public_base_url="http://localhost",
        queue_prefix=prefix,
        content_keys=CONTENT_KEYS,
        retry_delays=RETRY_DELAYS,
        webhook_timeout=2.0,
    )
    document, _ = demo
    points = [entry["id"] for entry in document["contact_points"]]
    delete_rabbitmq_topology(prefix, points, RETRY_DELAYS)


def broker_environment(settings) -> dict[str, str]:
    """The environment under which a CLI command or a process of its own sees
    the same router, database and broker as `settings`."""
    return {
        **cli_environment(settings),
        "BROKER_URL": settings.broker_url,
        "QUEUE_PREFIX": settings.queue_prefix,
        "RETRY_DELAYS": ",".join(str(delay) for delay in settings.retry_delays),
        "PUBLIC_BASE_URL": settings.public_base_url,
    }


def run_cli(settings, *arguments: str):
    """Run `referral-router ARGUMENTS` in process against the test's router
    and broker, keeping the test's own log handlers afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return CliRunner().invoke(
            main, list(arguments), env=broker_environment(settings)
        )
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


class ScriptedReceiver:
    """The demo contact points' webhook receiver, behind scripted failures.

    `fail(referral_id_or_star, 500, 500)` answers the next calls for that
    referral (or for any) with those statuses before letting them through;
    `slow(referral_id, 3.0)` makes the next call wait that long, then go on.
    Every body received is kept, to search for plaintext.
    """

    def __init__(self, app) -> None:
        self._app = app
        self._script: dict[str, deque] = defaultdict(deque)
        self.bodies: list[bytes] = []
        self.calls: dict[str, list[int]] = defaultdict(list)
        self.slowed: dict[str, int] = defaultdict(int)
        self._delays: dict[str, deque] = defaultdict(deque)
        self.down = False

    def fail(self, referral_id: str, *statuses: int) -> None:
        self._script[referral_id].extend(statuses)

    def slow(self, referral_id: str, *seconds: float) -> None:
        """The next calls for that referral wait this long before answering."""
        self._delays[referral_id].extend(seconds)

    def __call__(self, environ, start_response):
        referral_id = environ.get("HTTP_REFERRAL_ID", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        self.bodies.append(body)
        delays = self._delays.get(referral_id)
        if delays:
            self.slowed[referral_id] += 1
            time.sleep(delays.popleft())
        script = self._script.get(referral_id) or self._script.get("*")
        status = 503 if self.down else (script.popleft() if script else None)
        if status is not None:
            self.calls[referral_id].append(status)
            return Response("unavailable", status=status)(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        self.calls[referral_id].append(200)

        return self._app(environ, start_response)


@pytest.fixture
def receiver(services, parties, receiver_port, tmp_path, clock):
    """The scripted receiver, serving on the demo directory's webhook port."""
    signer = services.signer
    public = signer.private_key.public_key()
    router_key = PartyKey(signer.router_id, "router", signer.alg, public)
    base_url = f"http://127.0.0.1:{receiver_port}"
    receiving = {
        party.party_id: ReceivingParty(
            party.party_id,
            party.encryption_private_key,
            Inbox(tmp_path / "inbox" / party.party_id),
        )
        for party in parties.values()
        if party.kind == "contact_point"
    }
    app = create_receiver_app(
        router_id=signer.router_id,
        router_key=router_key,
        base_url=base_url,
        parties=receiving,
        clock=clock,
    )
    scripted = ScriptedReceiver(app)
    server = make_server("127.0.0.1", receiver_port, scripted, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scripted.inbox_root = tmp_path / "inbox"
    yield scripted
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def worker(services, receiver):
    """The connector worker, consuming in a thread until the test ends."""
    consumer = build_worker(services)
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    yield consumer
    consumer.should_stop = True
    thread.join(timeout=10)


@pytest.fixture
def publisher(settings):
    built = Publisher(settings)
    yield built
    built.close()


@pytest.fixture
def relay(services, publisher):
    """Publish every outbox row now; returns how many."""

    def run() -> int:
        total = 0
        while count := relay_once(services.engine, publisher, services.clock):
            total += count
        return total

    return run
