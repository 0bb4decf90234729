"""Running the router in one process, and the synthetic tour through it."""

from __future__ import annotations

import click

from router.cli.common import current_settings, wait_for_signal


@click.command()
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
    settings = current_settings(**overrides)
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
    wait_for_signal()
    running.stop()


@click.command()
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
@click.option("--count", default=6, show_default=True, type=click.IntRange(1, 500))
@click.option("--receiver-url", default="http://127.0.0.1:8001", show_default=True)
def demo(url: str, count: int, receiver_url: str) -> None:
    """File synthetic reports with the demo hotlines' keys and acknowledge some,
    against a router started by `referral-router run`."""
    from router.clock import SystemClock
    from router.demo import demo_directory, run_tour

    settings = current_settings()
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
