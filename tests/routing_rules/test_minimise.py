"""Minimisation: each role receives only its part of a report."""

from __future__ import annotations

import json

import pytest

from routing_rules import decide, minimise

from .conftest import AT, make_facts, make_report


@pytest.mark.parametrize(
    ("role", "withheld"),
    [
        pytest.param("lead", set(), id="lead"),
        pytest.param("informed", {"narrative", "reporter"}, id="informed"),
        pytest.param("support", {"suspects"}, id="support"),
    ],
)
def test_withholds_fields_each_role_does_not_need(role, withheld, rule_set, directory):
    """Each role's part of the report leaves out exactly the fields it does not need."""
    facts = make_facts(
        incident_country="TH",
        suspect_nationalities=("DE",),
        victim_countries=("TH",),
        consents_to_contact=True,
    )
    report = make_report()
    decision = decide(facts, rule_set, directory, AT)
    (referral,) = [r for r in decision.referrals if r.role == role]

    part = minimise(report, referral.fields)

    assert set(report) - set(part) == withheld


def test_gives_hosting_country_only_online_material_facts(rule_set, directory):
    """A hosting country's police receive the online part and the case basics."""
    facts = make_facts(
        category="online_abuse_material",
        incident_country="TH",
        hosting_countries=("NL",),
    )
    decision = decide(facts, rule_set, directory, AT)
    (referral,) = [
        r for r in decision.referrals if r.contact_point_id == "cp-nl-police"
    ]

    part = minimise(make_report(), referral.fields)

    assert set(part) == {
        "reference",
        "received_at",
        "category",
        "immediate_danger",
        "online",
    }


def test_skips_fields_absent_from_report():
    """A field the role may receive but the report lacks is simply absent."""
    report = make_report()
    del report["online"]

    part = minimise(report, frozenset({"reference", "online"}))

    assert part == {"reference": "SYNTH-2026-000001"}


def test_returns_a_new_mapping_over_the_report():
    """The part is a mapping of its own: adding to it or dropping from it leaves
    the report as it was."""
    report = make_report()
    before = json.dumps(report, sort_keys=True, default=str)

    part = minimise(report, frozenset({"victims", "reference"}))
    del part["reference"]
    part["extra"] = "synthetic"

    assert json.dumps(report, sort_keys=True, default=str) == before
