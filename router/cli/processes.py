"""The production processes: relay, worker, SLA clock, and the receiver kit
(with its follow-up report)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from contracts.referrals import OUTCOMES
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
    from connectors.inbox import Inbox
    from connectors.receiver_kit import ReceiverKit, signed_acknowledger

    acknowledge = None
    if party_id:
        if not (key_file and kid):
            raise click.UsageError("--acknowledge-as needs --key and --kid")
        client = _signed_client(router_url, party_id, key_file, kid)
        acknowledge = signed_acknowledger(client)
    kit = ReceiverKit(
        amqp_url,
        queue,
        encryption_key_file.read_text().strip(),
        Inbox(inbox_dir),
        acknowledge=acknowledge,
    )
    kit.run_forever()


@click.command("receiver-follow-up", epilog=f"OUTCOME: {', '.join(OUTCOMES)}.")
@click.argument("referral_id")
@click.argument("outcome", type=click.Choice(OUTCOMES), metavar="OUTCOME")
@click.option(
    "--inbox",
    "inbox_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The receiver kit's inbox, which must hold the referral.",
)
@click.option("--as", "party_id", required=True, help="Your contact point id.")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your signing key.",
)
@click.option("--kid", required=True, help="Its key id.")
@click.option(
    "--note-file",
    type=click.File("r"),
    help="Free text for the network, from a file ('-' reads stdin).",
)
@click.option("--final", is_flag=True, help="Close the referral: nothing follows.")
@click.option("--router-url", default="http://127.0.0.1:8000", show_default=True)
def receiver_follow_up(
    referral_id,
    outcome,
    inbox_dir,
    party_id,
    key_file,
    kid,
    note_file,
    final,
    router_url,
) -> None:
    """Report what you did with a referral the receiver kit received."""
    import requests

    from connectors.inbox import Inbox
    from connectors.receiver_kit import report_follow_up

    client = _signed_client(router_url, party_id, key_file, kid)
    note = note_file.read().strip() if note_file else None
    try:
        response = report_follow_up(
            client, Inbox(inbox_dir), referral_id, outcome, note=note, final=final
        )
    except requests.RequestException as error:
        raise click.ClickException(f"no answer: {type(error).__name__}") from None
    except (LookupError, ValueError) as error:
        raise click.ClickException(f"{referral_id}: {error}") from None
    if not response.ok:
        detail = response.reason
        if response.headers.get("Content-Type", "").endswith("problem+json"):
            detail = response.json().get("detail", detail)
        raise click.ClickException(f"HTTP {response.status_code}: {detail}")
    referral = response.json()
    click.echo(f"{referral['id']}: {referral['state']}, {referral['outcome']}")


def _signed_client(router_url: str, party_id: str, key_file: Path, kid: str):
    from connectors.client import SignedClient
    from contracts.signed_calls import load_private_key

    return SignedClient(
        router_url,
        current_settings().router_id,
        party_id,
        kid,
        load_private_key(key_file.read_bytes()),
    )
