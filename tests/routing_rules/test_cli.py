"""The `rules` command group."""

from __future__ import annotations

import json
import re

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


# Every gap of the test rule set, as `rules check` lists them: the synthetic
# rule set and directory under tests/routing_rules/ruleset make each of these.
TEST_RULESET_GAPS = [
    "  DE support: no contact point; goes to cp-coordinators",
    "  FR support: no contact point; goes to cp-coordinators",
    "  GB support: no contact point; goes to cp-coordinators",
    "  KH lead: contact point cp-kh-police is suspended; goes to cp-asia-bureau",
    "  KH informed: contact point cp-kh-police is suspended; goes to cp-asia-bureau",
    "  KH support: no contact point; goes to cp-asia-bureau",
    "  LA lead: no contact point; goes to cp-asia-bureau",
    "  LA informed: no contact point; goes to cp-asia-bureau",
    "  LA support: no contact point; goes to cp-asia-bureau",
    "  MM lead: embargoed (synthetic test embargo: referral would endanger the "
    "victim); goes to cp-asia-bureau",
    "  MM informed: embargoed (synthetic test embargo: referral would endanger the "
    "victim); goes to cp-asia-bureau",
    "  MM support: embargoed (synthetic test embargo: referral would endanger the "
    "victim); goes to cp-asia-bureau",
    "  NL support: no contact point; goes to cp-coordinators",
    "  NO support: no contact point; goes to cp-coordinators",
    "  PH support: no contact point; goes to cp-coordinators",
]


def _check(folder):
    arguments = ["check", "--rules", str(folder)]
    arguments += ["--directory", str(folder / "directory.yaml")]

    return CliRunner().invoke(rules, arguments)


def test_check_prints_version_and_gaps():
    """`rules check` on the demo prints the version and lists as many gaps as it
    counts, the suspended Cambodian police among them."""
    result = CliRunner().invoke(rules, ["check"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("rule set 2026.12.0+sha256:")
    counted = re.fullmatch(r"(\d+) gaps \(country role: problem; goes to\):", lines[1])
    assert counted, lines[1]
    assert len(lines) - 2 == int(counted[1]) > 0
    assert (
        "  KH lead: contact point cp-kh-police is suspended; goes to cp-asean-bureau"
        in lines
    )


def test_check_lists_exactly_the_gaps_of_the_test_rule_set():
    """Every gap the test rule set has is listed, in order, and nothing else."""
    result = _check(RULESET)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(
        r"rule set 1\.0\.0\+sha256:[0-9a-f]{12}: 6 rules, 10 countries", lines[0]
    )
    assert lines[1:] == [
        "15 gaps (country role: problem; goes to):",
        *TEST_RULESET_GAPS,
    ]


def test_check_says_no_gaps_only_when_there_are_none(rules_copy):
    """A rule set whose only country has every role covered says "no gaps"."""
    for path in (rules_copy / "jurisdictions").glob("*.yaml"):
        if path.name != "th.yaml":
            path.unlink()

    result = _check(rules_copy)

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == ["no gaps"]


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
