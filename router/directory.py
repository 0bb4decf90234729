"""The directory: member hotlines and contact points, with their keys.

Coordinators keep it as a YAML file; `referral-router directory load FILE`
validates the whole file, then writes it to the database in one transaction.
The running router reads a snapshot of it, refreshed every few seconds, so a
change loaded by the CLI reaches every process without a restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from contracts.base import Country, StrictBoolean, StrictSchema
from contracts.sealing import public_key_from_text
from contracts.signed_calls import ALGORITHMS, algorithm_of, load_public_key
from router.auth import PartyKey
from router.errors import DirectoryError
from router.persistence.db import reading
from router.persistence.tables import contact_points, hotlines, party_keys
from routing_rules.yamlfile import parse_yaml

PARTY_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
CONTACT_POINT_KINDS = ("police", "national_bureau", "ngo", "coordinator")
CHANNELS = ("webhook", "queue", "pull")
MAX_PROBLEMS_SHOWN = 20


def _check_public_key(value: str) -> None:
    try:
        load_public_key(value)
    except ValueError as error:
        raise ValidationError(f"Not a usable public key: {error}") from None


def _check_encryption_key(value: str) -> None:
    try:
        public_key_from_text(value)
    except ValueError:
        raise ValidationError("Not a base64 X25519 public key.") from None


class KeySchema(StrictSchema):
    kid = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,64}$")
    )
    alg = fields.String(required=True, validate=validate.OneOf(ALGORITHMS))
    public_key = fields.String(required=True, validate=_check_public_key)

    @validates_schema
    def _alg_fits_key(self, data: dict, **kwargs) -> None:
        try:
            actual = algorithm_of(load_public_key(data["public_key"]))
        except (KeyError, ValueError):
            return
        if actual != data.get("alg"):
            raise ValidationError(f"The key is an {actual} key.", "alg")


class PartySchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(PARTY_ID_PATTERN))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    verified_on = fields.Date(required=True)
    keys = fields.List(fields.Nested(KeySchema), load_default=list)

    @validates_schema
    def _kids_unique(self, data: dict, **kwargs) -> None:
        kids = [key["kid"] for key in data.get("keys", [])]
        if len(kids) != len(set(kids)):
            raise ValidationError("Each kid may appear once.", "keys")


class HotlineSchema(PartySchema):
    country = Country(required=True)


class ContactPointSchema(PartySchema):
    kind = fields.String(required=True, validate=validate.OneOf(CONTACT_POINT_KINDS))
    country = Country(load_default=None)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    webhook_url = fields.Url(schemes={"http", "https"}, require_tld=False)
    email = fields.Email()
    encryption_key = fields.String(required=True, validate=_check_encryption_key)
    suspended = StrictBoolean(load_default=False)

    @validates_schema
    def _channel_has_address(self, data: dict, **kwargs) -> None:
        if data.get("channel") == "webhook" and not data.get("webhook_url"):
            raise ValidationError("A webhook contact point needs one.", "webhook_url")


class DirectoryDocumentSchema(StrictSchema):
    synthetic = StrictBoolean(load_default=False)
    hotlines = fields.List(fields.Nested(HotlineSchema), load_default=list)
    contact_points = fields.List(fields.Nested(ContactPointSchema), load_default=list)


def parse_directory(document: Any, source: str = "directory") -> dict:
    """Validate a directory document; the error names every bad entry."""
    if not isinstance(document, dict):
        raise DirectoryError(f"{source}: the document must be a mapping")
    try:
        loaded = DirectoryDocumentSchema().load(document)
    except ValidationError as error:
        problems = _describe(error.messages, document)
        if len(problems) > MAX_PROBLEMS_SHOWN:
            hidden = len(problems) - MAX_PROBLEMS_SHOWN
            problems = [*problems[:MAX_PROBLEMS_SHOWN], f"and {hidden} more"]
        raise DirectoryError(f"{source}: " + "; ".join(problems)) from None
    _check_unique_ids(loaded, source)

    return loaded


def read_directory_file(path: str | Path) -> dict:
    """Read and validate a directory file."""
    path = Path(path)
    try:
        document = parse_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise DirectoryError(f"{path}: cannot be read: {error}") from None

    return parse_directory(document, str(path))


def _describe(messages: dict, document: dict) -> list[str]:
    """Flatten schema messages into 'contact_points[2] (cp-x): field: why'."""
    lines = []
    for section, problems in sorted(messages.items()):
        if not isinstance(problems, dict):
            lines.append(f"{section}: {' '.join(map(str, problems))}")
            continue
        entries = document.get(section) or []
        for index, entry_problems in sorted(problems.items()):
            entry = entries[index] if index < len(entries) else {}
            label = f"{section}[{index}]"
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                label += f" ({entry['id']})"
            for path, text in _flatten(entry_problems):
                lines.append(f"{label}: {path}: {text}")

    return lines


def _flatten(problems: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(problems, dict):
        pairs = []
        for key, nested in problems.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            pairs.extend(_flatten(nested, path))
        return pairs

    return [(prefix or "entry", " ".join(map(str, problems)))]


def _check_unique_ids(loaded: dict, source: str) -> None:
    # A token's `iss` is a bare party id, so ids are unique across both kinds.
    seen: set[str] = set()
    for section in ("hotlines", "contact_points"):
        for entry in loaded[section]:
            if entry["id"] in seen:
                raise DirectoryError(f"{source}: the id {entry['id']} is used twice")
            seen.add(entry["id"])


def store_directory(connection: Connection, loaded: dict, now: datetime) -> dict:
    """Write a validated directory: entries are added or replaced, keys too."""
    counts = {"hotlines": 0, "contact_points": 0, "keys": 0}
    for entry in loaded["hotlines"]:
        row = {
            "id": entry["id"],
            "name": entry["name"],
            "country": entry["country"],
            "verified_on": entry["verified_on"],
            "updated_at": now,
        }
        _upsert(connection, hotlines, row)
        counts["hotlines"] += 1
        counts["keys"] += _replace_keys(connection, entry, "hotline")
    for entry in loaded["contact_points"]:
        row = {
            "id": entry["id"],
            "name": entry["name"],
            "kind": entry["kind"],
            "country": entry["country"],
            "channel": entry["channel"],
            "webhook_url": entry.get("webhook_url"),
            "email": entry.get("email"),
            "encryption_key": entry["encryption_key"],
            "suspended": entry["suspended"],
            "verified_on": entry["verified_on"],
            "updated_at": now,
        }
        _upsert(connection, contact_points, row)
        counts["contact_points"] += 1
        counts["keys"] += _replace_keys(connection, entry, "contact_point")

    return counts


def _upsert(connection: Connection, table, row: dict) -> None:
    found = connection.execute(
        select(table.c.id).where(table.c.id == row["id"])
    ).first()
    if found:
        connection.execute(update(table).where(table.c.id == row["id"]), row)
    else:
        connection.execute(insert(table), row)


def _replace_keys(connection: Connection, entry: dict, kind: str) -> int:
    connection.execute(delete(party_keys).where(party_keys.c.party_id == entry["id"]))
    rows = [
        {
            "party_id": entry["id"],
            "kid": key["kid"],
            "party_kind": kind,
            "alg": key["alg"],
            "public_key": key["public_key"],
        }
        for key in entry["keys"]
    ]
    if rows:
        connection.execute(insert(party_keys), rows)

    return len(rows)


@dataclass(frozen=True, slots=True)
class ContactPoint:
    id: str
    name: str
    kind: str
    country: str | None
    channel: str
    webhook_url: str | None
    email: str | None
    encryption_key: Any
    suspended: bool


@dataclass(frozen=True)
class Snapshot:
    """The directory as one process sees it at one moment."""

    hotline_countries: dict[str, str] = field(default_factory=dict)
    contact_points: dict[str, ContactPoint] = field(default_factory=dict)
    keys: dict[tuple[str, str], PartyKey] = field(default_factory=dict)


def read_snapshot(connection: Connection) -> Snapshot:
    hotline_countries = dict(
        connection.execute(select(hotlines.c.id, hotlines.c.country)).all()
    )
    points = {
        row.id: ContactPoint(
            id=row.id,
            name=row.name,
            kind=row.kind,
            country=row.country,
            channel=row.channel,
            webhook_url=row.webhook_url,
            email=row.email,
            encryption_key=public_key_from_text(row.encryption_key),
            suspended=row.suspended,
        )
        for row in connection.execute(select(contact_points))
    }
    keys = {
        (row.party_id, row.kid): PartyKey(
            party_id=row.party_id,
            party_kind=row.party_kind,
            alg=row.alg,
            key=load_public_key(row.public_key),
        )
        for row in connection.execute(select(party_keys))
    }

    return Snapshot(hotline_countries, points, keys)


class DirectoryCache:
    """A snapshot refreshed when older than `max_age` seconds.

    A key missing from the snapshot is looked up in the database, and, when
    found, the whole snapshot is refreshed: a party registered a moment ago is
    recognised at once, and an unknown issuer costs one indexed read.
    """

    def __init__(self, engine: Engine, max_age: float = 10.0) -> None:
        self._engine = engine
        self._max_age = max_age
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._loaded_at = 0.0

    def current(self) -> Snapshot:
        if self._snapshot is None or self._age() > self._max_age:
            self.refresh()

        return self._snapshot

    def refresh(self) -> Snapshot:
        with self._lock, reading(self._engine) as connection:
            self._snapshot = read_snapshot(connection)
            self._loaded_at = time.monotonic()

        return self._snapshot

    def find_key(self, party_id: str, kid: str) -> PartyKey | None:
        found = self.current().keys.get((party_id, kid))
        if found is None and self._key_registered(party_id, kid):
            found = self.refresh().keys.get((party_id, kid))

        return found

    def _key_registered(self, party_id: str, kid: str) -> bool:
        with reading(self._engine) as connection:
            return (
                connection.execute(
                    _KEY_EXISTS, {"party_id": party_id, "kid": kid}
                ).first()
                is not None
            )

    def _age(self) -> float:
        return time.monotonic() - self._loaded_at


_KEY_EXISTS = select(party_keys.c.kid).where(
    party_keys.c.party_id == bindparam("party_id"),
    party_keys.c.kid == bindparam("kid"),
)
