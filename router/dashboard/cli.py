"""`referral-router accounts …` and `referral-router report annual …`."""

from __future__ import annotations

from pathlib import Path

import click

FORMAT_CHOICES = click.Choice(["html", "csv", "json", "pdf"])


def _services():
    from router.cli.common import current_settings
    from router.services import build_services

    return build_services(current_settings())


@click.group()
def accounts() -> None:
    """Coordinators' and auditors' logins for the dashboard."""


@accounts.command("add")
@click.argument("username")
@click.option(
    "--role", type=click.Choice(["coordinator", "auditor"]), default="coordinator"
)
@click.option(
    "--background-checked-on",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="When the holder's background check was made.",
)
@click.option(
    "--background-check-expires-on",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="After this day the holder cannot open case details.",
)
@click.password_option(help="Prompted for when not given; at least 12 characters.")
def accounts_add(
    username, role, background_checked_on, background_check_expires_on, password
) -> None:
    """Add a login; the password is kept only as a scrypt hash."""
    from router.dashboard.accounts import AccountError, create_account

    services = _services()
    try:
        account = create_account(
            services.engine,
            username=username,
            password=password,
            role=role,
            background_checked_on=background_checked_on.date(),
            background_check_expires_on=background_check_expires_on.date(),
            now=services.clock.now(),
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"added {account.username} ({account.role})")


@accounts.command("list")
def accounts_list() -> None:
    """Every login, its role and its background check."""
    from router.dashboard.accounts import list_accounts

    services = _services()
    today = services.clock.now().date()
    for account in list_accounts(services.engine):
        vetted = "vetted" if account.vetted_on(today) else "CHECK EXPIRED"
        state = " disabled" if account.disabled else ""
        click.echo(
            f"{account.username:<24} {account.role:<12} check "
            f"{account.background_checked_on}..{account.background_check_expires_on}"
            f" {vetted}{state}"
        )


@click.group()
def report() -> None:
    """The annual report."""


@report.command("annual")
@click.option("--year", type=int, help="A calendar year (the default: this one).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="Or a period.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Inclusive.")
@click.option("--format", "fmt", type=FORMAT_CHOICES, default="html", show_default=True)
@click.option(
    "--language",
    type=click.Choice(["en", "es", "fr", "de", "nl", "ru"]),
    default="en",
    show_default=True,
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it; standard output when not given (not for PDF).",
)
def report_annual(year, start, end, fmt, language, out) -> None:
    """Reports received in a period and how each was followed up, per hotline
    and overall."""
    from router.app import create_app
    from router.dashboard.report import ReportPeriod, build_report, render
    from router.persistence.db import reading

    if (start is None) != (end is None):
        raise click.UsageError("give --start and --end together")
    if fmt == "pdf" and out is None:
        raise click.UsageError("a PDF needs --out")
    services = _services()
    if start is not None:
        try:
            period = ReportPeriod.between(start.date(), end.date())
        except ValueError as error:
            raise click.UsageError(str(error)) from None
    else:
        period = ReportPeriod.of_year(year or services.clock.now().year)

    app = create_app(services)
    headers = {"Accept-Language": language}
    with app.test_request_context(headers=headers), reading(services.engine) as conn:
        body, _ = render(build_report(conn, period, services.clock.now()), fmt)
    if out is None:
        click.echo(body, nl=False)
        return
    if isinstance(body, str):
        out.write_text(body, encoding="utf-8")
    else:
        out.write_bytes(body)
    click.echo(f"wrote the report for {period.label} to {out}", err=True)
