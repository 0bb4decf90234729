"""`referral-router`: the one command, with a subcommand per job."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

from router.config import ConfigError, load_settings
from router.dashboard.cli import accounts, report
from routing_rules.cli import rules


def _settings(**overrides):
    try:
        return load_settings(**overrides)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def main() -> None:
    """Route hotline reports to the competent contact points, and hold every
    referral to its acknowledgement deadline."""
    from router.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_format, settings.log_level)


main.add_command(rules)
main.add_command(accounts)
main.add_command(report)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--receiver-port", default=8001, show_default=True)
@click.option(
    "--demo/--no-demo",
    default=True,
    show_default=True,
    help="Load the synthetic directory and run its contact points.",
)
def run(host: str, port: int, receiver_port: int, demo: bool) -> None:
    """Run everything in one process on SQLite, with no servers needed."""
    from router.demo import DEMO_COORDINATOR
    from router.embedded import start_embedded

    overrides = {"public_base_url": f"http://{host}:{port}"}
    settings = _settings(**overrides)
    running = start_embedded(
        settings, host=host, port=port, receiver_port=receiver_port, demo=demo
    )
    click.echo(f"referral-router is running (embedded, {settings.database_url})")
    click.echo(f"  API:             {running.url}/v1")
    click.echo(f"  OpenAPI:         {running.url}/openapi/openapi.json")
    click.echo(f"  health:          {running.url}/livez  {running.url}/readyz")
    click.echo(f"  dashboard:       {running.url}/dashboard/")
    if demo:
        click.echo(
            f"  demo login:      {DEMO_COORDINATOR} / {running.coordinator_password}"
            "  (synthetic account)"
        )
        click.echo(f"  demo receiver:   {running.receiver_url}")
        click.echo(f"  demo inboxes:    {running.inbox_dir}")
        click.echo("  try it:          referral-router demo   (in another shell)")
    click.echo("Stop with Ctrl-C.")
    _wait_for_signal()
    running.stop()


def _wait_for_signal() -> None:
    stopped = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stopped.set())
    stopped.wait()


@main.command()
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--count", default=6, show_default=True, type=click.IntRange(1, 500))
@click.option("--receiver-url", default="http://127.0.0.1:8001", show_default=True)
def demo(url: str, count: int, receiver_url: str) -> None:
    """File synthetic reports with the demo hotlines' keys and acknowledge some,
    against a router started by `referral-router run`."""
    from router.clock import SystemClock
    from router.demo import demo_directory, run_tour

    settings = _settings()
    _, parties = demo_directory(settings.instance_dir, receiver_url)
    try:
        run_tour(
            base_url=url,
            router_id=settings.router_id,
            inbox_root=settings.instance_dir / "demo" / "inbox",
            parties=parties,
            clock=SystemClock(),
            count=count,
            say=click.echo,
        )
    except (RuntimeError, OSError) as error:
        raise click.ClickException(str(error)) from None


@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the current schema."""
    from router.persistence.db import create_database_engine
    from router.persistence.migrate import upgrade

    upgrade(create_database_engine(_settings().database_url))
    click.echo("database schema is current")


@main.group()
def directory() -> None:
    """Member hotlines and contact points."""


@directory.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_check(file: Path) -> None:
    """Validate a directory file without loading it."""
    loaded = _read_directory(file)
    click.echo(
        f"{file}: {len(loaded['hotlines'])} hotlines, "
        f"{len(loaded['contact_points'])} contact points, valid"
    )


@directory.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_load(file: Path) -> None:
    """Validate a directory file, then write it to the database."""
    from router.clock import SystemClock
    from router.directory import store_directory
    from router.persistence.db import create_database_engine

    loaded = _read_directory(file)
    engine = create_database_engine(_settings().database_url)
    with engine.begin() as connection:
        counts = store_directory(connection, loaded, SystemClock().now())
    click.echo(
        f"loaded {counts['hotlines']} hotlines, {counts['contact_points']} "
        f"contact points and {counts['keys']} keys from {file}"
    )


def _read_directory(file: Path) -> dict:
    from router.directory import read_directory_file
    from router.errors import DirectoryError

    try:
        return read_directory_file(file)
    except DirectoryError as error:
        raise click.ClickException(str(error)) from None


@main.group()
def keys() -> None:
    """Signing and encryption keys."""


@keys.command("generate")
@click.option("--alg", type=click.Choice(["EdDSA", "ES256"]), default="EdDSA")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the private key (PEM); it must not exist.",
)
def keys_generate(alg: str, out: Path) -> None:
    """Make a signing key pair; print the public key for the directory."""
    import os

    from contracts.signed_calls import new_signing_key, private_key_pem, public_key_pem

    key = new_signing_key(alg)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{out} exists; choose another path") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_key_pem(key))
    click.echo(public_key_pem(key), nl=False)


@keys.command("encryption")
def keys_encryption() -> None:
    """Make an X25519 pair for a contact point's sealed content."""
    from contracts.sealing import new_encryption_key_pair

    private, public = new_encryption_key_pair()
    click.echo(json.dumps({"private_key": private, "public_key": public}, indent=2))


@keys.command("init-router")
def keys_init_router() -> None:
    """Create the router's own signing key, if it has none yet."""
    from router.signer import load_signer, write_signing_key

    settings = _settings()
    if not settings.signing_key_file.exists():
        write_signing_key(settings.signing_key_file)
    click.echo(load_signer(settings).public_pem, nl=False)


@main.command()
@click.argument("method", type=click.Choice(["GET", "POST"]))
@click.argument("path")
@click.option(
    "--body",
    "body_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file to send as the body.",
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--kid", required=True)
@click.option("--party", "party_id", required=True, help="Your party id (iss).")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
def call(method, path, body_file, key_file, kid, party_id, url) -> None:
    """Make one signed call, e.g. `call POST /v1/reports --body report.json`."""
    from connectors.client import SignedClient
    from contracts.signed_calls import load_private_key

    settings = _settings()
    client = SignedClient(
        url, settings.router_id, party_id, kid, load_private_key(key_file.read_bytes())
    )
    document = json.loads(body_file.read_text()) if body_file else None
    if method == "POST" and document is None:
        document = {}
    response = client.call(method, path, document)
    click.echo(f"HTTP {response.status_code}", err=True)
    click.echo(json.dumps(response.json(), indent=2))
    sys.exit(0 if response.ok else 1)


@main.command()
def relay() -> None:
    """Publish committed outbox rows to the broker (a process of its own)."""
    from router.delivery.broker import Publisher
    from router.delivery.relay import run_relay
    from router.services import build_services

    services = build_services(_settings())
    stop = threading.Event()
    _stop_on_signal(stop)
    run_relay(
        services.engine,
        Publisher(services.settings),
        services.clock,
        stop,
        services.settings.relay_interval,
    )


@main.command()
def worker() -> None:
    """Deliver referrals through their contact points' channels."""
    from router.delivery.worker import build_worker
    from router.services import build_services

    consumer = build_worker(build_services(_settings()))
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: setattr(consumer, "should_stop", True))
    consumer.run()


@main.command()
def clock() -> None:
    """Run the SLA clock: reminders, escalations, notices (safe to run twice)."""
    from router.embedded import sla_clock
    from router.services import build_services
    from router.sla import run_clock

    services = build_services(_settings())
    stop = threading.Event()
    _stop_on_signal(stop)
    run_clock(sla_clock(services), stop, services.settings.clock_interval)


def _stop_on_signal(stop: threading.Event) -> None:
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())


@main.command()
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
            _settings().router_id,
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


@main.command()
def openapi() -> None:
    """Print the OpenAPI document of protocol v1 (needs no keys or database)."""
    import tempfile

    from router.app import create_app
    from router.content_keys import new_key_line
    from router.services import build_services
    from router.signer import write_signing_key

    with tempfile.TemporaryDirectory() as scratch:
        # The document depends on the code alone: throwaway keys will do.
        settings = load_settings(
            environ={}, instance_dir=Path(scratch), content_keys=new_key_line("x")
        )
        write_signing_key(settings.signing_key_file)
        app = create_app(build_services(settings))
        with app.app_context():
            spec = app.extensions["openapi"].spec.to_dict()
    click.echo(json.dumps(spec, indent=2, sort_keys=True))


@main.command()
def figures() -> None:
    """Print how many referrals were acknowledged, and how many in time."""
    from router.figures import acknowledgement_figures
    from router.persistence.db import create_database_engine

    engine = create_database_engine(_settings().database_url)
    numbers = acknowledgement_figures(engine)
    for name, value in numbers.items():
        click.echo(f"{name:<32} {value}")


@main.group()
def referrals() -> None:
    """Coordinators' actions on one referral."""


@referrals.command("revoke")
@click.argument("referral_id")
@click.option("--by", "coordinator", required=True, help="Who revokes, for the audit.")
@click.option("--reroute", is_flag=True, help="Hand it to the next contact point.")
def referrals_revoke(referral_id: str, coordinator: str, reroute: bool) -> None:
    """Withdraw a referral from its contact point."""
    from router.coordination import revoke
    from router.errors import ProblemError
    from router.services import build_services

    services = build_services(_settings())
    try:
        referral = revoke(
            services.engine,
            referral_id,
            coordinator=coordinator,
            now=services.clock.now(),
            services=services,
            reroute=reroute,
        )
    except ProblemError as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"{referral['id']} revoked ({referral['contact_point_id']})")


@keys.command("init-content")
def keys_init_content() -> None:
    """Create the key that encrypts case content at rest, if there is none."""
    from router.content_keys import write_content_key

    settings = _settings()
    path = settings.content_keys_file
    if settings.content_keys:
        raise click.ClickException("CONTENT_KEYS is set; it takes precedence")
    if path.exists():
        click.echo(f"{path} exists; nothing to do")
        return
    write_content_key(path)
    click.echo(f"wrote a content key to {path}")


@keys.command("rotate-content")
@click.argument("name")
def keys_rotate_content(name: str) -> None:
    """Put a new content key NAME first in CONTENT_KEYS_FILE."""
    from router.content_keys import add_content_key

    try:
        add_content_key(_settings().content_keys_file, name)
    except (OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{name} encrypts from the next start; then run reencrypt-content")


@keys.command("reencrypt-content")
def keys_reencrypt_content() -> None:
    """Re-encrypt every stored case under the newest content key."""
    from router.content_keys import load_content_keys, reencrypt_cases
    from router.persistence.db import create_database_engine

    settings = _settings()
    keys_ = load_content_keys(settings)
    changed = reencrypt_cases(create_database_engine(settings.database_url), keys_)
    click.echo(f"re-encrypted {changed} cases under key {keys_.current}")


@main.group()
def broker() -> None:
    """The broker: its definitions, parked messages, delivery status."""


@broker.command("definitions")
@click.option(
    "--directory",
    "directory_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The directory whose contact points get queues and users "
    "(default: the synthetic demo directory).",
)
def broker_definitions(directory_file: Path | None) -> None:
    """Print the RabbitMQ definitions: exchanges, queues, users, permissions."""
    from router.delivery.definitions import definitions, directory_contact_points

    settings = _settings()
    document = definitions(
        _topology(settings), directory_contact_points(directory_file)
    )
    click.echo(json.dumps(document, indent=2, sort_keys=True))


@broker.command("replay-parked")
def broker_replay_parked() -> None:
    """Send every parked referral to its contact point again."""
    from router.clock import SystemClock
    from router.delivery.parked import replay_parked
    from router.persistence.db import create_database_engine

    settings = _settings()
    engine = create_database_engine(settings.database_url)
    count = replay_parked(settings, engine, SystemClock())
    click.echo(f"replayed {count} parked referrals")


@broker.command("status")
def broker_status() -> None:
    """Print the outbox backlog, delivery statuses and parked messages."""
    from router.clock import SystemClock
    from router.delivery.parked import (
        delivery_counts,
        holding_depths,
        parked_referrals,
    )
    from router.delivery.relay import backlog
    from router.persistence.db import create_database_engine

    settings = _settings()
    engine = create_database_engine(settings.database_url)
    waiting = backlog(engine, SystemClock())
    click.echo(f"{'outbox waiting':<32} {waiting['waiting']}")
    click.echo(f"{'outbox oldest age (s)':<32} {waiting['oldest_age_seconds']:.1f}")
    for status, count in delivery_counts(engine).items():
        click.echo(f"{'referrals ' + status:<32} {count}")
    for queue, depth in holding_depths(settings).items():
        click.echo(f"{'queue ' + queue:<32} {depth}")
    for referral_id, contact_point_id in parked_referrals(engine):
        click.echo(f"parked  {referral_id}  {contact_point_id}")


def _topology(settings):
    from router.delivery.broker import topology_for

    return topology_for(settings)
