"""The `rules` command group."""

from __future__ import annotations

import json

from click.testing import CliRunner

from routing_rules.cli import load_report_file, rules

from .conftest import RULESET

REPORT = {
    "reference": "SYNTH-2026-000042",
    "received_at": "2026-11-30T14:05:00+01:00",
    "category": "travel_tourism_offence",
    "immediate_danger": True,
    "incident": {"country": "TH", "occurred_on": "2026-11-20"},
    "suspects": [{"nationalities": ["DE"], "description": "Synthetic."}],
    "victims": [{"age_band": "6-11", "country": "TH"}],
    "reporter": {"consents_to_contact": True, "language": "de"},
}


def test_check_prints_version_and_gaps():
    """`rules check` on the demo prints the version and the gaps."""
    result = CliRunner().invoke(rules, ["check"])

    assert result.exit_code == 0
    assert result.output.startswith("rule set 2026.12.0+sha256:")
    assert "gaps" in result.output


def test_check_fails_with_located_message_on_bad_file(rules_copy):
    """`rules check` exits 1 and names the place of a bad rule."""
    path = rules_copy / "jurisdictions" / "ph.yaml"
    path.write_text(path.read_text().replace("cp-ph-online-unit", "cp-xx"))
    arguments = [
        "check",
        "--rules",
        str(rules_copy),
        "--directory",
        str(rules_copy / "directory.yaml"),
    ]

    result = CliRunner().invoke(rules, arguments)

    assert result.exit_code == 1
    assert "rule 'ph-online-unit-2026': field 'contact_point'" in result.output


def test_explain_prints_decision_as_json(tmp_path):
    """`rules explain` prints the explanation of a report file as JSON."""
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps(REPORT))
    arguments = [
        "explain",
        str(report_file),
        "--hotline-country",
        "AT",
        "--at",
        "2026-12-01T10:00:00+00:00",
        "--rules",
        str(RULESET),
        "--directory",
        str(RULESET / "directory.yaml"),
    ]

    result = CliRunner().invoke(rules, arguments)

    explanation = json.loads(result.output)
    assert result.exit_code == 0
    assert explanation["referrals"][0]["contact_point_id"] == "cp-th-police"
    assert explanation["referrals"][0]["ack_within_hours"] == 2


def test_load_report_file_parses_dates(tmp_path):
    """The report loader turns the report's date strings into date objects."""
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps(REPORT))

    report = load_report_file(report_file)

    assert report["received_at"].utcoffset().total_seconds() == 3600
    assert report["incident"]["occurred_on"].isoformat() == "2026-11-20"
