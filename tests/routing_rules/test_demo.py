"""The demo rule set: it loads, it is checked, and it is visibly synthetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing_rules import DirectoryView, check, load_rule_set
from routing_rules.yamlfile import read_yaml

DEMO = Path(__file__).parents[2] / "routing_rules" / "demo"


@pytest.fixture(scope="module")
def demo_directory() -> DirectoryView:
    """The demo directory of synthetic contact points."""
    return DirectoryView.from_yaml(DEMO / "directory.yaml")


@pytest.fixture(scope="module")
def demo_rules(demo_directory):
    """The demo rule set."""
    return load_rule_set(DEMO, demo_directory)


def test_covers_at_least_30_countries(demo_rules):
    """The demo rule set describes at least 30 countries."""
    assert len(demo_rules.jurisdictions) >= 30


def test_check_reports_version_and_gaps(demo_rules, demo_directory):
    """Checking the demo rule set gives its version and some gaps."""
    result = check(demo_rules, demo_directory)

    assert result.rule_set_version == demo_rules.version
    assert result.gaps
    assert result.lines()[0].startswith(f"rule set {demo_rules.version}")


def test_shows_suspension_and_embargo(demo_rules, demo_directory):
    """The demo has a suspended contact point and an embargoed jurisdiction."""
    assert any(contact_point.suspended for contact_point in demo_directory)
    assert any(j.embargo is not None for j in demo_rules.jurisdictions.values())


def test_names_every_contact_point_as_synthetic():
    """Every demo contact point's name says it is synthetic."""
    document = read_yaml(DEMO / "directory.yaml")

    assert document["synthetic"] is True
    for entry in document["contact_points"]:
        assert "Synthetic" in entry["name"] and "(demo)" in entry["name"]


def test_says_no_real_organisation_is_meant():
    """Every demo file starts by saying it is synthetic."""
    for path in [DEMO / "directory.yaml", *DEMO.rglob("*.yaml")]:
        head = path.read_text().splitlines()[0]
        assert "synthetic" in head.lower(), path


def test_has_regional_bureaus_and_coordinators(demo_directory):
    """The demo directory holds the coordinators and four regional bureaus."""
    for contact_point_id in (
        "cp-coordinators",
        "cp-asean-bureau",
        "cp-latam-bureau",
        "cp-africa-bureau",
        "cp-europe-bureau",
    ):
        assert demo_directory.get(contact_point_id) is not None


def test_check_finds_no_problems_with_own_directory(demo_rules, demo_directory):
    """The demo rules name only contact points of the demo directory."""
    assert check(demo_rules, demo_directory).problems == ()
