"""The `rules` command group: check a rule set, explain a routing decision.

The router's command line adds this group as `referral-router rules`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from marshmallow import ValidationError

from contracts.reports import ReportSchema
from routing_rules.check import check
from routing_rules.directory import DirectoryView
from routing_rules.engine import explain
from routing_rules.errors import RuleSetError
from routing_rules.facts import Facts
from routing_rules.loader import load_rule_set
from routing_rules.model import RuleSet

DEMO_RULES = Path(__file__).parent / "demo"
DEMO_DIRECTORY = DEMO_RULES / "directory.yaml"

_rules_option = click.option(
    "--rules",
    "rules_folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEMO_RULES,
    show_default=True,
    help="Folder of the rule set.",
)
_directory_option = click.option(
    "--directory",
    "directory_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=DEMO_DIRECTORY,
    show_default=True,
    help="Directory file of contact points.",
)


def load_report_file(path: str | Path) -> dict[str, Any]:
    """Read a protocol report from a JSON file, validated by its contract."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return ReportSchema().load(document)
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{path}: {error}") from None
    except ValidationError as error:
        raise click.ClickException(f"{path}: {error.messages}") from None


def _load(rules_folder: Path, directory_file: Path) -> tuple[RuleSet, DirectoryView]:
    """Load the directory and rule set, or stop with exit status 1 and the problems."""
    directory = DirectoryView.from_yaml(directory_file)
    try:
        rule_set = load_rule_set(rules_folder, directory)
    except RuleSetError as error:
        click.echo(str(error), err=True)
        raise click.exceptions.Exit(1) from None

    return rule_set, directory


@click.group("rules")
def rules() -> None:
    """Check and explain the routing rules."""


@rules.command("check")
@_rules_option
@_directory_option
def check_command(rules_folder: Path, directory_file: Path) -> None:
    """Validate every rule file and list the countries with gaps."""
    rule_set, directory = _load(rules_folder, directory_file)

    for line in check(rule_set, directory).lines():
        click.echo(line)


@rules.command("explain")
@click.argument(
    "report_file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--hotline-country", default=None, help="ISO alpha-2 code of the hotline."
)
@click.option(
    "--at",
    "at_text",
    default=None,
    help="ISO date-time of the decision; now when left out, UTC when no offset.",
)
@_rules_option
@_directory_option
def explain_command(
    report_file: Path,
    hotline_country: str | None,
    at_text: str | None,
    rules_folder: Path,
    directory_file: Path,
) -> None:
    """Print, as JSON, where a report would go and why."""
    rule_set, directory = _load(rules_folder, directory_file)
    report = load_report_file(report_file)
    at = datetime.fromisoformat(at_text) if at_text else datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)

    facts = Facts.from_report(report, hotline_country)
    explanation = explain(facts, rule_set, directory, at)
    click.echo(json.dumps(explanation, indent=2, ensure_ascii=False))
