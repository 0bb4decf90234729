"""Facts extracted from a report, and the directory view."""

from __future__ import annotations

import pytest

from routing_rules import ContactPointView, DirectoryView, Facts

from .conftest import RULESET, make_report


def test_extracts_countries_from_every_part_of_report():
    """Facts gather the incident, suspect, victim, hosting and hotline countries."""
    report = make_report(
        suspects=[
            {"nationalities": ["fr", "DE"], "residence_country": "CH"},
            {"nationalities": ["DE"]},
        ]
    )

    facts = Facts.from_report(report, "at")

    assert facts.incident_country == "TH"
    assert facts.suspect_nationalities == ("DE", "FR")
    assert facts.suspect_residence_countries == ("CH",)
    assert facts.victim_countries == ("TH",)
    assert facts.hosting_countries == ("NL",)
    assert facts.hotline_country == "AT"
    assert facts.consents_to_contact is True


def test_accepts_report_without_optional_parts():
    """A report with only its required fields gives facts with empty parts."""
    report = {
        "reference": "SYNTH-1",
        "received_at": make_report()["received_at"],
        "category": "other",
        "immediate_danger": False,
    }

    facts = Facts.from_report(report, None)

    assert facts == Facts(category="other")


def test_directory_ignores_keys_routing_does_not_need():
    """The directory view keeps id, kind, country and state, and skips hotlines."""
    directory = DirectoryView.from_yaml(RULESET / "directory.yaml")

    assert directory.get("cp-kh-police") == ContactPointView(
        id="cp-kh-police", kind="police", country="KH", suspended=True
    )
    assert directory.get("hl-at") is None


def test_directory_reads_norway_as_country():
    """A contact point in Norway keeps the country code NO."""
    directory = DirectoryView.from_yaml(RULESET / "directory.yaml")

    assert directory.get("cp-no-police").country == "NO"


def test_directory_refuses_entry_without_kind(tmp_path):
    """A directory entry without a kind is refused, naming the entry."""
    path = tmp_path / "directory.yaml"
    path.write_text("contact_points:\n  - id: cp-synthetic\n")

    with pytest.raises(ValueError, match=r"contact point #1: needs at least"):
        DirectoryView.from_yaml(path)
