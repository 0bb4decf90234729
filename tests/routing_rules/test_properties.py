"""Properties every decision holds, over generated synthetic reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.reports import AGE_BANDS, CATEGORIES
from routing_rules import DirectoryView, Facts, decide, load_rule_set

DEMO = Path(__file__).parents[2] / "routing_rules" / "demo"
RULESET = Path(__file__).parent / "ruleset"

# Countries with and without jurisdiction files, suspended or embargoed ones
# included, so generated reports reach every branch of routing.
COUNTRIES = [
    "TH", "KH", "LA", "MM", "DE", "FR", "GB", "NL", "NO", "PH", "BR", "KE",
    "US", "AT", "IN", "MX", "ZA", "FI",
]  # fmt: skip

countries = st.sampled_from(COUNTRIES)
suspects = st.fixed_dictionaries(
    {
        "nationalities": st.lists(countries, max_size=3),
        "description": st.just("Synthetic suspect."),
    },
    optional={"residence_country": countries},
)
victims = st.fixed_dictionaries(
    {"age_band": st.sampled_from(AGE_BANDS)}, optional={"country": countries}
)
reports = st.fixed_dictionaries(
    {
        "reference": st.from_regex(r"SYNTH-[0-9]{6}", fullmatch=True),
        "received_at": st.just(datetime(2026, 11, 30, 13, 5, tzinfo=UTC)),
        "category": st.sampled_from(CATEGORIES),
        "immediate_danger": st.booleans(),
        "suspects": st.lists(suspects, max_size=4),
        "victims": st.lists(victims, max_size=3),
    },
    optional={
        "incident": st.fixed_dictionaries(
            {"country": countries}, optional={"occurred_on": st.just(date(2026, 11, 1))}
        ),
        "online": st.fixed_dictionaries(
            {
                "urls": st.just(["https://example.org/synthetic"]),
                "hosting_countries": st.lists(countries, max_size=3),
            }
        ),
        "narrative": st.just("Synthetic narrative."),
        "reporter": st.fixed_dictionaries(
            {"consents_to_contact": st.booleans(), "language": st.just("en")}
        ),
    },
)
moments = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2028, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def _load(folder: Path):
    directory = DirectoryView.from_yaml(folder / "directory.yaml")
    return load_rule_set(folder, directory), directory


RULE_SETS = {"test": _load(RULESET), "demo": _load(DEMO)}
rule_sets = st.sampled_from(sorted(RULE_SETS))
hotline_countries = st.none() | countries

pytestmark = pytest.mark.filterwarnings("error")
SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(report=reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_every_report_gets_a_referral(report, hotline, name, at):
    """Every report is referred to at least one contact point."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    assert decision.referrals


@SETTINGS
@given(report=reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_same_input_gives_same_decision(report, hotline, name, at):
    """Deciding twice on the same input gives the same decision."""
    rule_set, directory = RULE_SETS[name]
    facts = Facts.from_report(report, hotline)

    assert decide(facts, rule_set, directory, at) == decide(
        facts, rule_set, directory, at
    )


@SETTINGS
@given(report=reports, hotline=hotline_countries, name=rule_sets, data=st.data())
def test_order_of_people_in_report_does_not_matter(report, hotline, name, data):
    """Listing suspects and victims in another order gives the same decision."""
    rule_set, directory = RULE_SETS[name]
    shuffled = {
        **report,
        "suspects": data.draw(st.permutations(report["suspects"])),
        "victims": data.draw(st.permutations(report["victims"])),
    }
    at = datetime(2026, 6, 1, tzinfo=UTC)

    original = decide(Facts.from_report(report, hotline), rule_set, directory, at)
    reordered = decide(Facts.from_report(shuffled, hotline), rule_set, directory, at)

    assert original == reordered


@SETTINGS
@given(report=reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_no_contact_point_appears_twice(report, hotline, name, at):
    """A decision refers the report to each contact point at most once."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    receivers = [referral.contact_point_id for referral in decision.referrals]
    assert len(receivers) == len(set(receivers))


@SETTINGS
@given(report=reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_every_referral_names_an_existing_rule_and_a_reason(report, hotline, name, at):
    """Each referral names a rule of the rule set and gives at least one reason."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    for referral in decision.referrals:
        assert rule_set.rule(referral.rule_id) is not None
        assert referral.reasons


@SETTINGS
@given(report=reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_no_referral_reaches_suspended_or_embargoed_contact_point(
    report, hotline, name, at
):
    """Referrals avoid suspended contact points and embargoed countries."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    for referral in decision.referrals:
        view = directory.get(referral.contact_point_id)
        jurisdiction = rule_set.jurisdictions.get(view.country)
        assert not view.suspended
        assert jurisdiction is None or jurisdiction.embargo is None


@SETTINGS
@given(report=reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_support_referrals_never_carry_suspects(report, hotline, name, at):
    """A support organisation never receives the suspects' identity."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    for referral in decision.referrals:
        if referral.role == "support":
            assert "suspects" not in referral.fields
