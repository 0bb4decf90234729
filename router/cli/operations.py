"""Operating the router: schema, broker, coordinators' actions, documents."""

from __future__ import annotations

import json
from pathlib import Path

import click

from router.cli.common import current_settings
from router.config import load_settings


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the current schema."""
    from router.persistence.db import create_database_engine
    from router.persistence.migrate import upgrade

    upgrade(create_database_engine(current_settings().database_url))
    click.echo("database schema is current")


@click.command()
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


@click.command()
def figures() -> None:
    """Print how many referrals were acknowledged, and how many in time."""
    from router.figures import acknowledgement_figures
    from router.persistence.db import create_database_engine

    engine = create_database_engine(current_settings().database_url)
    numbers = acknowledgement_figures(engine)
    for name, value in numbers.items():
        click.echo(f"{name:<32} {value}")


@click.group()
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

    services = build_services(current_settings())
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


@click.group()
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

    settings = current_settings()
    document = definitions(
        _topology(settings), directory_contact_points(directory_file)
    )
    click.echo(json.dumps(document, indent=2, sort_keys=True))


@broker.command("replay-parked")
def broker_replay_parked() -> None:
    """Send every parked (and unroutable) referral to its contact point again.

    Messages for a contact point the directory does not know stay where they
    are, and are counted as kept."""
    from router.clock import SystemClock
    from router.delivery.parked import replay_parked_messages
    from router.persistence.db import create_database_engine

    settings = current_settings()
    engine = create_database_engine(settings.database_url)
    replay = replay_parked_messages(settings, engine, SystemClock())
    click.echo(f"replayed {replay.replayed} parked referrals")
    if replay.kept:
        click.echo(
            f"kept {replay.kept} in place: unreadable, or for a contact point "
            "the directory does not know (see the error log)"
        )


@broker.command("status")
def broker_status() -> None:
    """Print the outbox backlog, delivery statuses and parked messages.

    Each parked referral is marked `unroutable` when no queue took its
    message; the unroutable count is of those."""
    from router.clock import SystemClock
    from router.delivery.parked import (
        delivery_counts,
        holding_depths,
        parked_referrals,
        unroutable_referrals,
    )
    from router.delivery.relay import backlog
    from router.persistence.db import create_database_engine

    settings = current_settings()
    engine = create_database_engine(settings.database_url)
    waiting = backlog(engine, SystemClock())
    click.echo(f"{'outbox waiting':<32} {waiting['waiting']}")
    click.echo(f"{'outbox oldest age (s)':<32} {waiting['oldest_age_seconds']:.1f}")
    for status, count in delivery_counts(engine).items():
        click.echo(f"{'referrals ' + status:<32} {count}")
    with engine.connect() as connection:
        unroutable = dict(unroutable_referrals(connection))
    click.echo(f"{'referrals parked, unroutable':<32} {len(unroutable)}")
    for queue, depth in holding_depths(settings).items():
        click.echo(f"{'queue ' + queue:<32} {depth}")
    for referral_id, contact_point_id in parked_referrals(engine):
        cause = "unroutable" if referral_id in unroutable else "undeliverable"
        click.echo(f"parked  {referral_id}  {contact_point_id}  {cause}")


def _topology(settings):
    from router.delivery.broker import topology_for

    return topology_for(settings)
