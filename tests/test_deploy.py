"""The deployment files name commands and settings that exist."""

from __future__ import annotations

from pathlib import Path

import yaml

from router.cli import main
from router.config import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_compose_command_is_a_cli_command():
    """Each process kind in docker-compose runs a real subcommand."""
    commands = [
        service["command"]
        for service in compose()["services"].values()
        if isinstance(service.get("command"), list)
        and service["command"][0] == "referral-router"
    ]

    assert {command[1] for command in commands} == {"db", "relay", "worker", "clock"}
    for command in commands:
        assert command[1] in main.commands


def test_every_compose_setting_is_one_the_router_reads():
    """No environment variable in docker-compose is a typo the router ignores."""
    environment = compose()["x-router"]["environment"]

    assert set(environment) <= set(ENVIRONMENT_VARIABLES)
