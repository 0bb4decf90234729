"""Checking a rule set: gaps per country and role, and unknown contact points."""

from __future__ import annotations

from routing_rules import ContactPointView, DirectoryView, check
from routing_rules.check import Gap


def test_lists_role_without_contact_point(rule_set, directory):
    """A role with no contact point is a gap that says where referrals go."""
    gaps = check(rule_set, directory).gaps

    assert Gap("LA", "lead", "no contact point", "cp-asia-bureau") in gaps


def test_lists_suspended_contact_point(rule_set, directory):
    """A suspended contact point is a gap for each role it serves."""
    gaps = check(rule_set, directory).gaps

    assert (
        Gap("KH", "lead", "contact point cp-kh-police is suspended", "cp-asia-bureau")
        in gaps
    )


def test_lists_embargoed_country_for_every_role(rule_set, directory):
    """An embargoed country is a gap for all three roles."""
    gaps = check(rule_set, directory).gaps

    assert {gap.role for gap in gaps if gap.country == "MM"} == {
        "lead",
        "informed",
        "support",
    }


def test_leaves_out_roles_that_are_covered(rule_set, directory):
    """A country with a working contact point for every role has no gap."""
    gaps = check(rule_set, directory).gaps

    assert not [gap for gap in gaps if gap.country == "TH"]


def test_names_contact_points_missing_from_another_directory(rule_set, directory):
    """Checked against a directory without a contact point, the rules say where."""
    smaller = DirectoryView(
        view for view in directory if view.id != "cp-ph-online-unit"
    )

    problems = check(rule_set, smaller).problems

    assert [str(problem).split(": ", 1)[1] for problem in problems] == [
        "rule 'ph-online-unit-2026': field 'contact_point': "
        "unknown contact point 'cp-ph-online-unit'"
    ]


def test_reports_no_problems_against_own_directory(rule_set, directory):
    """A rule set checked against the directory it was loaded with is clean."""
    assert check(rule_set, directory).problems == ()


def test_sees_suspension_made_after_loading(rule_set, directory):
    """A contact point suspended in a newer directory shows up as a gap."""
    newer = DirectoryView(
        ContactPointView(view.id, view.kind, view.country, view.id == "cp-th-ngo")
        for view in directory
    )

    gaps = check(rule_set, newer).gaps

    assert (
        Gap("TH", "support", "contact point cp-th-ngo is suspended", "cp-asia-bureau")
        in gaps
    )
