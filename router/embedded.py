"""The embedded mode: the whole router in one process, with no servers.

Web, outbox relay, connector worker and SLA clock run as threads of one
process, on SQLite and kombu's in-process transport. With the demo on, the
synthetic directory is loaded and a demo contact point receiver runs beside
the router, so a referral can be watched from intake to acknowledgement.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from werkzeug.serving import make_server

from connectors.inbox import Inbox
from connectors.webhook import WebhookChannel
from connectors.webhook_receiver import ReceivingParty, create_receiver_app
from router.app import create_app
from router.auth import PartyKey
from router.config import Settings
from router.content_keys import write_content_key
from router.delivery.broker import Publisher
from router.delivery.relay import run_relay
from router.delivery.worker import ConnectorWorker, build_worker, email_channel
from router.demo import demo_directory, ensure_demo_coordinator
from router.directory import store_directory
from router.notices import NoticeSender
from router.persistence.migrate import upgrade
from router.services import Services, build_services
from router.signer import write_signing_key
from router.sla import SlaClock, run_clock

log = structlog.get_logger(__name__)


@dataclass
class EmbeddedRouter:
    """A running router: its URLs and how to stop it."""

    services: Services
    url: str
    receiver_url: str | None
    inbox_dir: Path | None
    coordinator_password: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    servers: list = field(default_factory=list)
    worker: ConnectorWorker | None = None

    def stop(self) -> None:
        self.stop_event.set()
        if self.worker is not None:
            self.worker.should_stop = True
        for server in self.servers:
            server.shutdown()
        for thread in self.threads:
            thread.join(timeout=10)


def ensure_signing_key(settings: Settings) -> None:
    if not settings.signing_key_file.exists():
        write_signing_key(settings.signing_key_file)


def ensure_content_key(settings: Settings) -> None:
    """Make the key that encrypts case content at rest, when none is set."""
    if not settings.content_keys and not settings.content_keys_file.exists():
        write_content_key(settings.content_keys_file)


def prepare_database(services: Services) -> None:
    upgrade(services.engine)


def load_demo(services: Services, receiver_url: str) -> dict:
    """Load the synthetic directory; returns the demo parties' private keys."""
    document, parties = demo_directory(services.settings.instance_dir, receiver_url)
    with services.engine.begin() as connection:
        store_directory(connection, document, services.clock.now())
    services.directory.refresh()

    return parties


def start_embedded(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    receiver_port: int = 8001,
    demo: bool = True,
    clock=None,
) -> EmbeddedRouter:
    """Start every part of the router in this process; returns once serving."""
    ensure_signing_key(settings)
    ensure_content_key(settings)
    services = build_services(settings, clock=clock)
    prepare_database(services)
    receiver_url = f"http://{host}:{receiver_port}" if demo else None
    running = EmbeddedRouter(
        services,
        url=f"http://{host}:{port}",
        receiver_url=receiver_url,
        inbox_dir=settings.instance_dir / "demo" / "inbox" if demo else None,
    )
    if demo:
        parties = load_demo(services, receiver_url)
        running.coordinator_password = ensure_demo_coordinator(
            services.engine, settings.instance_dir, services.clock.now()
        )
        _serve(
            running,
            _receiver_app(services, receiver_url, parties, running),
            port=receiver_port,
            host=host,
        )

    _serve(running, create_app(services), host=host, port=port)
    _start_thread(
        running,
        "relay",
        run_relay,
        services.engine,
        Publisher(settings),
        services.clock,
        running.stop_event,
        settings.relay_interval,
    )
    _start_thread(
        running,
        "clock",
        run_clock,
        sla_clock(services),
        running.stop_event,
        settings.clock_interval,
    )
    running.worker = build_worker(services)
    _start_thread(running, "worker", running.worker.run)

    return running


def _receiver_app(services, receiver_url, parties, running):
    signer = services.signer
    router_key = PartyKey(
        party_id=signer.router_id,
        party_kind="router",
        alg=signer.alg,
        key=signer.private_key.public_key(),
    )
    receiving = {
        party.party_id: ReceivingParty(
            party.party_id,
            party.encryption_private_key,
            Inbox(running.inbox_dir / party.party_id),
        )
        for party in parties.values()
        if party.kind == "contact_point"
    }

    return create_receiver_app(
        router_id=signer.router_id,
        router_key=router_key,
        base_url=receiver_url,
        parties=receiving,
        clock=services.clock,
    )


def webhook_channel(services: Services) -> WebhookChannel:
    settings = services.settings

    return WebhookChannel(
        services.signer,
        services.clock,
        timeout=settings.webhook_timeout,
        attempts=settings.webhook_attempts,
    )


def sla_clock(services: Services) -> SlaClock:
    notifier = NoticeSender(
        services.directory,
        webhook=webhook_channel(services),
        email=email_channel(services.settings),
    )

    return SlaClock(services, notifier)


def _serve(running: EmbeddedRouter, app, *, host: str, port: int) -> None:
    server = make_server(host, port, app, threaded=True)
    running.servers.append(server)
    _start_thread(running, f"http-{port}", server.serve_forever)


def _start_thread(running: EmbeddedRouter, name: str, target, *args) -> None:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    running.threads.append(thread)
