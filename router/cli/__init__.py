"""`referral-router`: the one command, with a subcommand per job."""

from __future__ import annotations

import click

from router.cli import embedded, operations, parties, processes
from router.cli.common import current_settings
from router.dashboard.cli import accounts, report
from routing_rules.cli import rules


@click.group()
def main() -> None:
    """Route hotline reports to the competent contact points, and hold every
    referral to its acknowledgement deadline."""
    from router.logs import configure_logging

    current = current_settings()
    configure_logging(current.log_format, current.log_level)


for command in (
    embedded.run,
    embedded.demo,
    parties.directory,
    parties.keys,
    parties.call,
    processes.relay,
    processes.worker,
    processes.clock,
    processes.receiver,
    processes.receiver_follow_up,
    operations.db,
    operations.openapi,
    operations.figures,
    operations.referrals,
    operations.broker,
    rules,
    accounts,
    report,
):
    main.add_command(command)
