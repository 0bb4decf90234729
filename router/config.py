"""Settings: one table of environment variables, read once at start-up.

Each setting has a type and a default; anything malformed stops the process at
start with a message naming the variable, rather than failing on first use.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting is missing or malformed."""


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive whole number")

    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be a positive number")

    return value


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


def _base_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")

    return raw.rstrip("/")


def _delays(raw: str) -> tuple[float, ...]:
    """Seconds, comma separated, each positive: `10,60,600`."""
    delays = tuple(_positive_float(part) for part in raw.split(","))
    if not delays:
        raise ValueError("must name at least one delay")

    return delays


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return raw

    return parse


DEMO_RULES = Path(__file__).resolve().parent.parent / "routing_rules" / "demo"
_INSTANCE = Path(os.environ.get("ROUTER_INSTANCE_DIR", "var")).resolve()


@dataclass(frozen=True)
class Settings:
    """Every setting of the router; the field's metadata names its variable."""

    instance_dir: Path = _INSTANCE
    database_url: str = f"sqlite:///{_INSTANCE / 'referral-router.db'}"
    broker_url: str = "memory://localhost/"
    queue_prefix: str = "rr"
    router_id: str = "urn:referral-router:demo"
    public_base_url: str = "http://127.0.0.1:8000"
    signing_key_file: Path = _INSTANCE / "keys" / "router-signing.pem"
    signing_key_id: str = "router-1"
    max_body_bytes: int = 1024 * 1024
    reminder_after_hours: float = 24.0
    log_format: str = "json"
    log_level: str = "INFO"
    relay_interval: float = 0.2
    clock_interval: float = 30.0
    webhook_timeout: float = 10.0
    webhook_attempts: int = 4
    broker_timeout: float = 5.0
    rules_dir: Path = DEMO_RULES
    retry_delays: tuple[float, ...] = (10.0, 60.0, 600.0)
    content_keys: str = ""
    content_keys_file: Path = _INSTANCE / "keys" / "content-keys"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_sender: str = "referral-router@localhost"
    session_secret_file: Path = _INSTANCE / "keys" / "session-secret"
    directory_stale_after_days: int = 365

    @property
    def reminder_after(self) -> timedelta:
        return timedelta(hours=self.reminder_after_hours)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_in_process_broker(self) -> bool:
        return self.broker_url.startswith("memory://")


# variable name, field, parser
_TABLE: tuple[tuple[str, str, Callable[[str], Any]], ...] = (
    ("ROUTER_INSTANCE_DIR", "instance_dir", lambda raw: Path(raw).resolve()),
    ("DATABASE_URL", "database_url", str),
    ("BROKER_URL", "broker_url", str),
    ("QUEUE_PREFIX", "queue_prefix", str),
    ("ROUTER_ID", "router_id", str),
    ("PUBLIC_BASE_URL", "public_base_url", _base_url),
    ("ROUTER_SIGNING_KEY_FILE", "signing_key_file", lambda raw: Path(raw)),
    ("ROUTER_SIGNING_KEY_ID", "signing_key_id", str),
    ("MAX_BODY_BYTES", "max_body_bytes", _positive_int),
    ("REMINDER_AFTER_HOURS", "reminder_after_hours", _positive_float),
    ("LOG_FORMAT", "log_format", _choice("json", "console")),
    ("LOG_LEVEL", "log_level", _choice("DEBUG", "INFO", "WARNING", "ERROR")),
    ("RELAY_INTERVAL", "relay_interval", _positive_float),
    ("CLOCK_INTERVAL", "clock_interval", _positive_float),
    ("WEBHOOK_TIMEOUT", "webhook_timeout", _positive_float),
    ("WEBHOOK_ATTEMPTS", "webhook_attempts", _positive_int),
    ("BROKER_TIMEOUT", "broker_timeout", _positive_float),
    ("RULES_DIR", "rules_dir", lambda raw: Path(raw).resolve()),
    ("RETRY_DELAYS", "retry_delays", _delays),
    ("CONTENT_KEYS", "content_keys", str),
    ("CONTENT_KEYS_FILE", "content_keys_file", lambda raw: Path(raw)),
    ("SMTP_HOST", "smtp_host", str),
    ("SMTP_PORT", "smtp_port", _positive_int),
    ("SMTP_SENDER", "smtp_sender", str),
    ("SESSION_SECRET_FILE", "session_secret_file", lambda raw: Path(raw)),
    ("DIRECTORY_STALE_AFTER_DAYS", "directory_stale_after_days", _positive_int),
)

ENVIRONMENT_VARIABLES = tuple(name for name, _, _ in _TABLE)


def _place_in_instance(values: dict[str, Any], instance_dir: Path) -> None:
    """Files not set explicitly live in the instance folder given."""
    defaults = {
        "database_url": f"sqlite:///{instance_dir / 'referral-router.db'}",
        "signing_key_file": instance_dir / "keys" / "router-signing.pem",
        "content_keys_file": instance_dir / "keys" / "content-keys",
        "session_secret_file": instance_dir / "keys" / "session-secret",
    }
    for name, default in defaults.items():
        values.setdefault(name, default)


def load_settings(
    environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Build the settings from the environment, then from explicit overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, field_name, parse in _TABLE:
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            values[field_name] = parse(raw)
        except ValueError as error:
            raise ConfigError(f"{name}: {error}") from None

    values.update(overrides)
    if "instance_dir" in values:
        _place_in_instance(values, values["instance_dir"])
    known = {field.name for field in fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")

    return Settings(**values)
