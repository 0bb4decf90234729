"""Loading a rule set from its folder, with every problem located.

A rule set folder holds `network.yaml` (the network file) and one file per
country under `jurisdictions/`. Other files, such as the directory, are not
part of the rule set and do not count towards its hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError

from routing_rules.directory import DirectoryView
from routing_rules.errors import Problem, RuleSetError
from routing_rules.model import (
    Condition,
    Embargo,
    Jurisdiction,
    Rule,
    RuleIndex,
    RuleSet,
)
from routing_rules.schema import ROLES, JurisdictionSchema, NetworkSchema
from routing_rules.yamlfile import parse_yaml

NETWORK_FILE = "network.yaml"
JURISDICTIONS_FOLDER = "jurisdictions"
DEFAULT_ACK_HOURS = 48.0


def rule_files(folder: Path) -> list[Path]:
    """The files of a rule set, in the sorted path order used for its hash."""
    paths = [folder / NETWORK_FILE, *(folder / JURISDICTIONS_FOLDER).glob("*.yaml")]

    return sorted(paths, key=lambda path: path.relative_to(folder).as_posix())


def _flatten(messages: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[str, str]]:
    """Turn marshmallow's nested messages into (field path, message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(messages, list):
        dotted = ""
        for part in path:
            dotted += f"[{part}]" if isinstance(part, int) else f".{part}"
        for message in messages:
            yield dotted.lstrip("."), str(message)


@dataclass
class _Loading:
    """The state of one load: what is read so far and what is wrong."""

    folder: Path
    directory: DirectoryView
    problems: list[Problem] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    rules_by_id: dict[str, Rule] = field(default_factory=dict)
    jurisdictions: dict[str, Jurisdiction] = field(default_factory=dict)

    def place(self, path: Path) -> str:
        return str(path)

    def read(self, path: Path, schema: Schema) -> dict[str, Any] | None:
        """Parse and validate one file; record its problems and return None if bad."""
        name = self.place(path)
        try:
            document = parse_yaml(path.read_bytes())
        except OSError as error:
            self.problems.append(Problem(name, f"cannot be read: {error.strerror}"))
            return None
        except yaml.YAMLError as error:
            self.problems.append(Problem(name, f"is not valid YAML: {error}"))
            return None
        if not isinstance(document, dict):
            self.problems.append(Problem(name, "must hold a mapping of keys"))
            return None

        try:
            return schema.load(document)
        except ValidationError as error:
            self._locate(name, document, error.messages)
            return None

    def _locate(self, name: str, document: dict, messages: Any) -> None:
        raw_rules = document.get("rules")
        for field_path, message in _flatten(messages):
            rule = None
            if field_path.startswith("rules["):
                index_text, _, field_path = field_path[6:].partition("]")
                rule = _rule_name(raw_rules, int(index_text))
                field_path = field_path.lstrip(".")
            elif field_path.startswith("no_rule_applies."):
                rule = _rule_name([document.get("no_rule_applies")], 0)
                field_path = field_path.removeprefix("no_rule_applies.")
            self.problems.append(Problem(name, message, rule, field_path or None))

    def contact_point(
        self, name: str, contact_point_id: str, field_path: str, rule: str | None = None
    ) -> None:
        """Record a problem unless the contact point is in the directory."""
        if self.directory.get(contact_point_id) is None:
            self.problems.append(
                Problem(
                    name,
                    f"unknown contact point '{contact_point_id}'",
                    rule,
                    field_path,
                )
            )

    def add_rule(self, rule: Rule) -> None:
        """Keep a rule, refusing a second rule with the same id."""
        earlier = self.rules_by_id.get(rule.id)
        if earlier is not None:
            self.problems.append(
                Problem(rule.source, f"also defined in {earlier.source}", rule.id, "id")
            )
            return
        self.rules_by_id[rule.id] = rule
        if rule.contact_point is not None:
            self.contact_point(
                rule.source, rule.contact_point, "contact_point", rule.id
            )


def _rule_name(raw_rules: Any, index: int) -> str:
    try:
        rule_id = raw_rules[index].get("id")
    except (AttributeError, IndexError, KeyError, TypeError):
        rule_id = None

    return str(rule_id) if rule_id else f"#{index + 1}"


@dataclass(frozen=True)
class _Defaults:
    ack_within: timedelta
    role_fields: dict[str, frozenset[str]]


def _compile_rule(
    data: dict[str, Any], source: str, order: int, defaults: _Defaults
) -> Rule:
    hours = data.get("ack_within_hours")
    receives = data.get("receives")
    when = data.get("when") or {}

    return Rule(
        id=data["id"],
        description=data["description"],
        source=source,
        order=order,
        role=data["role"],
        ack_within=timedelta(hours=hours) if hours else defaults.ack_within,
        fields=frozenset(receives)
        if receives is not None
        else defaults.role_fields[data["role"]],
        conditions=tuple(Condition.compile(key, value) for key, value in when.items()),
        contact_point=data.get("contact_point"),
        to_country_of=data.get("to_country_of"),
        only_if_prosecutes_abroad=data.get("only_if_prosecutes_abroad", False),
        effective_from=data.get("effective_from"),
        effective_until=data.get("effective_until"),
    )


def load_rule_set(folder: str | Path, directory: DirectoryView) -> RuleSet:
    """Load, validate and index the rule set in a folder.

    Raises RuleSetError listing every problem found, each naming its file,
    rule and field.
    """
    folder = Path(folder)
    loading = _Loading(folder, directory)
    paths = rule_files(folder)
    network_path = folder / NETWORK_FILE
    if not network_path.is_file():
        raise RuleSetError([Problem(str(network_path), "the network file is missing")])

    network = loading.read(network_path, NetworkSchema())
    jurisdiction_files = [
        (path, loading.read(path, JurisdictionSchema()))
        for path in paths
        if path != network_path
    ]
    if network is None:
        raise RuleSetError(loading.problems)

    rule_set = _assemble(loading, network_path, network, jurisdiction_files, paths)
    if loading.problems:
        raise RuleSetError(loading.problems)

    return rule_set


def _assemble(
    loading: _Loading,
    network_path: Path,
    network: dict[str, Any],
    jurisdiction_files: list[tuple[Path, dict[str, Any] | None]],
    paths: list[Path],
) -> RuleSet:
    network_name = loading.place(network_path)
    hours = network.get("default_ack_within_hours", DEFAULT_ACK_HOURS)
    defaults = _Defaults(
        ack_within=timedelta(hours=hours),
        role_fields={role: frozenset(network["role_fields"][role]) for role in ROLES},
    )

    coordinators = network["coordinators"]
    loading.contact_point(network_name, coordinators, "coordinators")
    no_rule_applies = _compile_rule(
        {
            **network["no_rule_applies"],
            "role": "lead",
            "contact_point": coordinators,
        },
        network_name,
        -1,
        defaults,
    )
    loading.add_rule(no_rule_applies)

    for data in network["rules"]:
        rule = _compile_rule(data, network_name, len(loading.rules), defaults)
        loading.rules.append(rule)
        loading.add_rule(rule)

    for path, document in jurisdiction_files:
        if document is not None:
            _add_jurisdiction(loading, path, document, defaults)

    fallbacks = network.get("fallbacks") or {}
    _check_fallbacks(loading, network_name, fallbacks)

    return RuleSet(
        version=f"{network['version']}+sha256:{_digest(paths)[:12]}",
        network=network["network"],
        coordinators=coordinators,
        rules=tuple(loading.rules),
        no_rule_applies=no_rule_applies,
        jurisdictions=dict(sorted(loading.jurisdictions.items())),
        fallbacks=fallbacks,
        escalate_to_fallback=frozenset(network["escalate_to_fallback"]),
        index=RuleIndex(loading.rules),
        files=tuple(loading.place(path) for path in paths),
        rules_by_id=loading.rules_by_id,
    )


def _add_jurisdiction(
    loading: _Loading, path: Path, document: dict[str, Any], defaults: _Defaults
) -> None:
    name = loading.place(path)
    country = document["country"]
    if path.stem != country.lower():
        loading.problems.append(
            Problem(
                name,
                f"the file for {country} must be named {country.lower()}.yaml",
                field="country",
            )
        )
    if country in loading.jurisdictions:
        earlier = loading.jurisdictions[country].source
        loading.problems.append(
            Problem(name, f"{country} is also described in {earlier}", field="country")
        )

    contact_points = document["contact_points"]
    for role, contact_point_id in contact_points.items():
        _check_own_contact_point(loading, name, country, contact_point_id, role)
    if "fallback" in document:
        loading.contact_point(name, document["fallback"], "fallback")

    embargo = None
    if "embargo" in document:
        embargo = Embargo(**document["embargo"])
        loading.contact_point(name, embargo.refer_instead, "embargo.refer_instead")
        refer_instead = loading.directory.get(embargo.refer_instead)
        if refer_instead is not None and refer_instead.country == country:
            loading.problems.append(
                Problem(
                    name,
                    f"'{embargo.refer_instead}' is in the embargoed country {country}",
                    field="embargo.refer_instead",
                )
            )

    loading.jurisdictions[country] = Jurisdiction(
        country=country,
        source=name,
        prosecutes_offences_abroad=document["prosecutes_offences_abroad"],
        contact_points=contact_points,
        fallback=document.get("fallback"),
        embargo=embargo,
    )
    for data in document["rules"]:
        rule = _compile_rule(data, name, len(loading.rules), defaults)
        loading.rules.append(rule)
        loading.add_rule(rule)


def _check_own_contact_point(
    loading: _Loading, name: str, country: str, contact_point_id: str, role: str
) -> None:
    field_path = f"contact_points.{role}"
    loading.contact_point(name, contact_point_id, field_path)
    view = loading.directory.get(contact_point_id)
    if view is not None and view.country not in (None, country):
        loading.problems.append(
            Problem(
                name,
                f"contact point '{contact_point_id}' is in {view.country}, "
                f"not {country}",
                field=field_path,
            )
        )


def _check_fallbacks(loading: _Loading, name: str, fallbacks: dict[str, str]) -> None:
    """Every contact point in the chains exists, and no chain comes back on itself."""
    for source, target in fallbacks.items():
        loading.contact_point(name, source, f"fallbacks.{source}")
        loading.contact_point(name, target, f"fallbacks.{source}")

    reported: set[str] = set()
    for start in fallbacks:
        chain = [start]
        while chain[-1] in fallbacks and fallbacks[chain[-1]] not in chain:
            chain.append(fallbacks[chain[-1]])
        if chain[-1] not in fallbacks:
            continue
        loop_start = chain.index(fallbacks[chain[-1]])
        loop = chain[loop_start:]
        if reported.isdisjoint(loop):
            reported.update(loop)
            shown = " -> ".join([*loop, loop[0]])
            loading.problems.append(
                Problem(
                    name,
                    f"the fallback chain loops: {shown}",
                    field=f"fallbacks.{loop[0]}",
                )
            )


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())

    return digest.hexdigest()
