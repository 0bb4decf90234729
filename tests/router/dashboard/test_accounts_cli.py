"""`referral-router accounts add` and `accounts list`."""

from __future__ import annotations

from click.testing import CliRunner

from router.cli import main
from tests.dashboard_helpers import PASSWORD
from tests.helpers import cli_environment


def accounts(settings, *arguments, password: str = PASSWORD):
    environment = cli_environment(settings)

    return CliRunner().invoke(
        main,
        ["accounts", *arguments],
        env=environment,
        input=f"{password}\n{password}\n",
    )


def test_an_account_is_added_and_listed(services, settings):
    """A coordinator's login is added with its background check, then listed."""
    added = accounts(
        settings,
        "add",
        "coord-9",
        "--background-checked-on",
        "2026-01-01",
        "--background-check-expires-on",
        "2027-01-01",
    )

    listed = accounts(settings, "list")

    assert added.exit_code == 0, added.output
    assert "coord-9" in listed.output
    assert "2026-01-01..2027-01-01" in listed.output


def test_a_short_password_is_refused(services, settings):
    """Passwords need twelve characters."""
    result = accounts(
        settings,
        "add",
        "coord-9",
        "--background-checked-on",
        "2026-01-01",
        "--background-check-expires-on",
        "2027-01-01",
        password="short",
    )

    assert result.exit_code == 1
    assert "12 characters" in result.output
