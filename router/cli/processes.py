"""The production processes: relay, worker, SLA clock, and the receiver kit."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from router.cli.common import current_settings, stop_on_signal


@click.command()
def relay() -> None:
    """Publish committed outbox rows to the broker (a process of its own)."""
    from router.delivery.broker import Publisher
    from router.delivery.relay import run_relay
    from router.services import build_services

    services = build_services(current_settings())
    stop = threading.Event()
    stop_on_signal(stop)
    run_relay(
        services.engine,
        Publisher(services.settings),
        services.clock,
        stop,
        services.settings.relay_interval,
    )


@click.command()
def worker() -> None:
    """Deliver referrals through their contact points' channels."""
    from router.delivery.worker import build_worker
    from router.services import build_services

    consumer = build_worker(build_services(current_settings()))
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: setattr(consumer, "should_stop", True))
    consumer.run()


@click.command()
def clock() -> None:
    """Run the SLA clock: reminders, escalations, notices (safe to run twice)."""
    from router.embedded import sla_clock
    from router.services import build_services
    from router.sla import run_clock

    services = build_services(current_settings())
    stop = threading.Event()
    stop_on_signal(stop)
    run_clock(sla_clock(services), stop, services.settings.clock_interval)


@click.command()
@click.option("--amqp-url", required=True, help="The broker, with your own user.")
@click.option("--queue", required=True, help="Your queue.")
@click.option(
    "--encryption-key-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--inbox",
    "inbox_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--acknowledge-as",
    "party_id",
    help="Your contact point id: "
    "acknowledge each referral over the signed API once it is stored.",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your signing key, with --acknowledge-as.",
)
@click.option("--kid", help="Its key id, with --acknowledge-as.")
@click.option("--router-url", default="http://127.0.0.1:8000", show_default=True)
def receiver(
    amqp_url,
    queue,
    encryption_key_file,
    inbox_dir,
    party_id,
    key_file,
    kid,
    router_url,
) -> None:
    """The receiver kit: read your queue and write each referral once."""
    from connectors.client import SignedClient
    from connectors.inbox import Inbox
    from connectors.receiver_kit import ReceiverKit, signed_acknowledger
    from contracts.signed_calls import load_private_key

    acknowledge = None
    if party_id:
        if not (key_file and kid):
            raise click.UsageError("--acknowledge-as needs --key and --kid")
        client = SignedClient(
            router_url,
            current_settings().router_id,
            party_id,
            kid,
            load_private_key(key_file.read_bytes()),
        )
        acknowledge = signed_acknowledger(client)
    kit = ReceiverKit(
        amqp_url,
        queue,
        encryption_key_file.read_text().strip(),
        Inbox(inbox_dir),
        acknowledge=acknowledge,
    )
    kit.run_forever()
