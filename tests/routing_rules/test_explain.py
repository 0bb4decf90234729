"""Explanations: the decision plus, per referral, the rules that fired and why."""

from __future__ import annotations

import json

from routing_rules import decide, explain

from .conftest import AT, make_facts

DANGER = make_facts(
    incident_country="TH", immediate_danger=True, suspect_nationalities=("DE",)
)


def test_is_json_ready(rule_set, directory):
    """An explanation survives a round trip through JSON unchanged."""
    explanation = explain(DANGER, rule_set, directory, AT)

    assert json.loads(json.dumps(explanation)) == explanation


def test_matches_decision(rule_set, directory):
    """An explanation lists the same referrals as the decision."""
    decision = decide(DANGER, rule_set, directory, AT)

    explanation = explain(DANGER, rule_set, directory, AT)

    assert [r["contact_point_id"] for r in explanation["referrals"]] == [
        r.contact_point_id for r in decision.referrals
    ]
    assert explanation["rule_set_version"] == decision.rule_set_version


def test_lists_every_rule_that_fired_for_a_referral(rule_set, directory):
    """A referral picked by two rules lists both, with their conditions."""
    explanation = explain(DANGER, rule_set, directory, AT)

    lead = explanation["referrals"][0]
    fired = {firing["rule_id"]: firing for firing in lead["fired"]}
    assert set(fired) == {"incident-country-leads", "immediate-danger-fast-lead"}
    assert fired["immediate-danger-fast-lead"]["conditions"] == [
        "a child is believed to be in immediate danger"
    ]


def test_names_matched_countries_in_conditions(rule_set, directory):
    """A country condition is explained with the countries that matched."""
    facts = make_facts(category="online_abuse_material", victim_countries=("PH", "TH"))

    explanation = explain(facts, rule_set, directory, AT)

    (unit,) = [
        r for r in explanation["referrals"] if r["rule_id"] == "ph-online-unit-2026"
    ]
    assert unit["fired"][0]["conditions"] == [
        "the category is online_abuse_material",
        "a victim is in PH",
    ]
