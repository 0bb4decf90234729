"""The deployment files name commands and settings that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

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


DEFINITIONS = "./deploy/rabbitmq/definitions.json"
BROKER_CONF = "./deploy/rabbitmq/rabbitmq.conf"
_VARIABLE = re.compile(r"\$\{(\w+):-([^}]*)\}")


def mounts(service: str) -> dict[str, str]:
    """The service's bind mounts: path in the container -> path here."""
    found = {}
    for volume in compose()["services"][service]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = source

    return found


def broker_conf() -> dict[str, str]:
    lines = (ROOT / BROKER_CONF).read_text().splitlines()

    return dict(
        line.split(" = ", 1) for line in lines if line and not line.startswith("#")
    )


def as_composed(value: str) -> str:
    """`${NAME:-default}` as compose reads it with NAME unset."""
    return _VARIABLE.sub(lambda match: match.group(2), value)


def test_the_broker_imports_the_shipped_definitions_at_boot():
    """The broker's conf.d gets rabbitmq.conf, which imports definitions.json
    from where the compose file mounts it."""
    mounted = mounts("rabbitmq")
    conf_target = next(t for t, s in mounted.items() if s == BROKER_CONF)
    settings = broker_conf()

    assert conf_target.startswith("/etc/rabbitmq/conf.d/")
    assert conf_target.endswith(".conf")
    assert settings["definitions.import_backend"] == "local_filesystem"
    assert mounted[settings["definitions.local.path"]] == DEFINITIONS
    assert settings["definitions.skip_if_unchanged"] == "true"
    assert (ROOT / DEFINITIONS).is_file()


def test_the_router_connects_as_the_user_the_definitions_ship():
    """BROKER_URL names the definitions' router user, which may use the
    router's names, and the password job sets that user's password to the
    one in the URL."""
    url = compose()["x-router"]["environment"]["BROKER_URL"]
    parsed = urlsplit(as_composed(url))
    document = json.loads((ROOT / DEFINITIONS).read_text())
    permission = next(
        p for p in document["permissions"] if p["user"] == "referral-router"
    )
    job = compose()["services"]["broker-passwords"]
    command = " ".join(job["command"])
    (password_variable,) = {name for name, _ in _VARIABLE.findall(url)}

    assert parsed.username == "referral-router"
    assert parsed.username in {user["name"] for user in document["users"]}
    for access in ("configure", "write", "read"):
        assert re.match(permission[access], "rr.referrals.cp-th-police")
    assert f"change_password {parsed.username} " in command
    assert f'"$${password_variable}"' in command
    job_password = job["environment"][password_variable]
    assert as_composed(job_password) == parsed.password
    assert _VARIABLE.findall(job_password) == _VARIABLE.findall(url)


def test_the_broker_processes_wait_for_the_router_password():
    """Relay and worker start once the router's broker user can log in."""
    services = compose()["services"]

    for name in ("relay", "worker"):
        dependency = services[name]["depends_on"]["broker-passwords"]
        assert dependency == {"condition": "service_completed_successfully"}
    assert services["broker-passwords"]["depends_on"]["rabbitmq"] == {
        "condition": "service_healthy"
    }
