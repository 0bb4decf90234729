"""What every subcommand shares: settings with clear errors, and signals."""

from __future__ import annotations

import signal
import threading

import click

from router.config import ConfigError, Settings, load_settings


def current_settings(**overrides) -> Settings:
    """The settings, or a clean exit naming the variable that is wrong."""
    try:
        return load_settings(**overrides)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None


def wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM."""
    stopped = threading.Event()
    stop_on_signal(stopped)
    stopped.wait()


def stop_on_signal(stop: threading.Event) -> None:
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
