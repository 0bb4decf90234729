"""Fixtures for the routing-rules tests; every report and rule here is synthetic."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from routing_rules import DirectoryView, Facts, RuleSet, load_rule_set

RULESET = Path(__file__).parent / "ruleset"
AT = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def directory() -> DirectoryView:
    """The synthetic test directory."""
    return DirectoryView.from_yaml(RULESET / "directory.yaml")


@pytest.fixture(scope="session")
def rule_set(directory: DirectoryView) -> RuleSet:
    """The synthetic test rule set."""
    return load_rule_set(RULESET, directory)


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A writable copy of the test rule set, for tests that break a file."""
    folder = tmp_path / "rules"
    shutil.copytree(RULESET, folder)

    return folder


def make_facts(**overrides: Any) -> Facts:
    """Facts of a synthetic travel and tourism report, with overrides."""
    values: dict[str, Any] = {"category": "travel_tourism_offence"}
    values.update(overrides)

    return Facts(**values)


def make_report(**overrides: Any) -> dict[str, Any]:
    """A synthetic report as the contract schema loads it, with overrides."""
    report: dict[str, Any] = {
        "reference": "SYNTH-2026-000001",
        "received_at": datetime(2026, 11, 30, 13, 5, tzinfo=UTC),
        "category": "travel_tourism_offence",
        "immediate_danger": False,
        "incident": {
            "country": "TH",
            "place": "Synthetic place",
            "occurred_on": date(2026, 11, 20),
        },
        "suspects": [
            {
                "nationalities": ["DE"],
                "residence_country": "DE",
                "description": "Synthetic suspect description.",
            }
        ],
        "victims": [{"age_band": "12-15", "country": "TH"}],
        "online": {
            "urls": ["https://example.org/synthetic"],
            "hosting_countries": ["NL"],
        },
        "narrative": "Synthetic narrative for tests.",
        "reporter": {"consents_to_contact": True, "language": "de"},
    }
    report.update(overrides)

    return report
