"""Routing decisions on the synthetic test rule set, table first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from routing_rules import decide

from .conftest import AT, make_facts

# name, facts, the (contact point, role) pairs the decision must contain
# exactly.
ROUTES = [
    (
        "national-abroad-of-prosecuting-country",
        make_facts(incident_country="TH", suspect_nationalities=("DE",)),
        {("cp-th-police", "lead"), ("cp-de-bureau", "informed")},
    ),
    (
        "national-abroad-of-non-prosecuting-country",
        make_facts(incident_country="TH", suspect_nationalities=("GB",)),
        {("cp-th-police", "lead")},
    ),
    (
        "resident-abroad-of-prosecuting-country",
        make_facts(incident_country="TH", suspect_residence_countries=("FR",)),
        {("cp-th-police", "lead"), ("cp-fr-police", "informed")},
    ),
    (
        "suspects-of-several-nationalities",
        make_facts(
            incident_country="TH",
            suspect_nationalities=("DE", "FR", "GB"),
            suspect_residence_countries=("NO",),
        ),
        {
            ("cp-th-police", "lead"),
            ("cp-de-bureau", "informed"),
            ("cp-fr-police", "informed"),
            ("cp-no-police", "informed"),
        },
    ),
    (
        "offence-at-home-is-not-abroad",
        make_facts(incident_country="DE", suspect_nationalities=("DE",)),
        {("cp-de-police", "lead")},
    ),
    (
        "material-hosted-in-third-country",
        make_facts(
            category="online_abuse_material",
            incident_country="TH",
            hosting_countries=("NL",),
        ),
        {("cp-th-police", "lead"), ("cp-nl-police", "informed")},
    ),
    (
        "online-only-report",
        make_facts(category="online_abuse_material", hosting_countries=("NL", "DE")),
        {("cp-nl-police", "informed"), ("cp-de-bureau", "informed")},
    ),
    (
        "no-contact-point-follows-chain",
        make_facts(incident_country="LA"),
        {("cp-asia-bureau", "lead")},
    ),
    (
        "suspended-contact-point",
        make_facts(incident_country="KH"),
        {("cp-asia-bureau", "lead")},
    ),
    (
        "embargoed-jurisdiction",
        make_facts(incident_country="MM"),
        {("cp-asia-bureau", "lead")},
    ),
    (
        "country-without-jurisdiction-file",
        make_facts(incident_country="BR"),
        {("cp-coordinators", "lead")},
    ),
    (
        "support-with-consent",
        make_facts(
            incident_country="TH", victim_countries=("TH",), consents_to_contact=True
        ),
        {("cp-th-police", "lead"), ("cp-th-ngo", "support")},
    ),
    (
        "no-support-without-consent",
        make_facts(incident_country="TH", victim_countries=("TH",)),
        {("cp-th-police", "lead")},
    ),
    (
        "lead-wins-over-informed-for-same-contact-point",
        make_facts(incident_country="NL", hosting_countries=("NL",)),
        {("cp-nl-police", "lead")},
    ),
]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [pytest.param(facts, expected, id=name) for name, facts, expected in ROUTES],
)
def test_routes_reports_to_expected_contact_points(
    facts, expected, rule_set, directory
):
    """A report goes to exactly the expected contact points in the expected roles."""
    decision = decide(facts, rule_set, directory, AT)

    routed = {
        (referral.contact_point_id, referral.role) for referral in decision.referrals
    }
    assert routed == expected


def test_gives_default_deadline_of_48_hours(rule_set, directory):
    """A referral without a deadline of its own is due within 48 hours."""
    decision = decide(make_facts(incident_country="TH"), rule_set, directory, AT)

    assert decision.referrals[0].ack_within == timedelta(hours=48)


def test_shortens_deadline_for_child_in_immediate_danger(rule_set, directory):
    """A child in immediate danger makes the lead's deadline 2 hours."""
    facts = make_facts(incident_country="TH", immediate_danger=True)

    decision = decide(facts, rule_set, directory, AT)

    (lead,) = decision.referrals
    assert lead.ack_within == timedelta(hours=2)
    assert lead.rule_id == "immediate-danger-fast-lead"


def test_merged_referral_keeps_union_of_fields(rule_set, directory):
    """One contact point picked by two rules receives the fields of both."""
    facts = make_facts(incident_country="NL", hosting_countries=("NL",))

    (referral,) = decide(facts, rule_set, directory, AT).referrals

    assert "suspects" in referral.fields
    assert "online" in referral.fields


def test_names_each_fallback_step_in_reasons(rule_set, directory):
    """A fallback chain shows each step it took in the referral's reasons."""
    (referral,) = decide(
        make_facts(incident_country="LA"), rule_set, directory, AT
    ).referrals

    assert referral.reasons[1:] == (
        "The incident happened in LA; the referral goes to LA's lead contact point.",
        "LA has no contact point for the lead role; the referral goes to "
        "cp-mekong-bureau instead.",
        "cp-mekong-bureau is suspended; the referral goes to cp-asia-bureau instead.",
    )


def test_names_suspension_in_reasons(rule_set, directory):
    """A suspended contact point is named in the reasons of its replacement."""
    (referral,) = decide(
        make_facts(incident_country="KH"), rule_set, directory, AT
    ).referrals

    assert (
        "cp-kh-police is suspended; the referral goes to cp-asia-bureau instead."
        in (referral.reasons)
    )


def test_names_embargo_in_reasons(rule_set, directory):
    """An embargo and its reason appear in the reasons of the redirected referral."""
    (referral,) = decide(
        make_facts(incident_country="MM"), rule_set, directory, AT
    ).referrals

    assert any("MM is embargoed (synthetic test embargo" in r for r in referral.reasons)


def test_embargo_covers_fixed_contact_point_of_embargoed_country(rules_copy, directory):
    """A rule naming a contact point in an embargoed country is redirected too."""
    from routing_rules import load_rule_set

    (rules_copy / "jurisdictions" / "mm.yaml").write_text(
        (rules_copy / "jurisdictions" / "mm.yaml").read_text() + "rules:\n"
        "  - {id: mm-direct, description: Synthetic direct rule., role: informed,\n"
        "     contact_point: cp-mm-police, when: {victim_country: MM}}\n"
    )
    rule_set = load_rule_set(rules_copy, directory)

    decision = decide(make_facts(victim_countries=("MM",)), rule_set, directory, AT)

    assert [r.contact_point_id for r in decision.referrals] == ["cp-asia-bureau"]


def test_sends_report_without_applicable_rule_to_coordinators(rule_set, directory):
    """A report that no rule applies to goes to the coordinators, flagged."""
    facts = make_facts(category="other")

    decision = decide(facts, rule_set, directory, AT)

    assert decision.to_coordinators is True
    assert [r.contact_point_id for r in decision.referrals] == ["cp-coordinators"]
    assert decision.referrals[0].rule_id == "no-rule-applies"
    assert decision.referrals[0].reasons[0].startswith("No rule applies")


def test_does_not_flag_coordinators_when_a_rule_applies(rule_set, directory):
    """A report routed by a rule is not flagged as sent to the coordinators."""
    decision = decide(make_facts(incident_country="TH"), rule_set, directory, AT)

    assert decision.to_coordinators is False


@pytest.mark.parametrize(
    ("at", "fires"),
    [
        pytest.param(datetime(2025, 12, 31, 23, 59, tzinfo=UTC), False, id="before"),
        pytest.param(datetime(2026, 1, 1, 0, 0, tzinfo=UTC), True, id="first-day"),
        pytest.param(datetime(2026, 12, 31, 23, 59, tzinfo=UTC), True, id="last-day"),
        pytest.param(datetime(2027, 1, 1, 0, 0, tzinfo=UTC), False, id="after"),
    ],
)
def test_uses_rule_only_while_in_effect(at, fires, rule_set, directory):
    """A rule with effective dates fires only on the days it is in effect."""
    facts = make_facts(category="online_abuse_material", victim_countries=("PH",))

    decision = decide(facts, rule_set, directory, at)

    fired = {referral.rule_id for referral in decision.referrals}
    assert ("ph-online-unit-2026" in fired) is fires


def test_refuses_naive_time(rule_set, directory):
    """A decision time without a time zone is refused."""
    with pytest.raises(ValueError, match="aware"):
        decide(make_facts(), rule_set, directory, datetime(2026, 1, 1))


def test_carries_rule_set_version(rule_set, directory):
    """The decision names the rule set version with its content hash."""
    decision = decide(make_facts(incident_country="TH"), rule_set, directory, AT)

    assert decision.rule_set_version == rule_set.version
    assert decision.rule_set_version.startswith("1.0.0+sha256:")
    assert len(decision.rule_set_version.split(":")[1]) == 12
