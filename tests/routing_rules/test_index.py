"""The rule index finds exactly the rules whose conditions hold."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.reports import AGE_BANDS, CATEGORIES
from routing_rules.engine import _applicable
from routing_rules.facts import Facts
from routing_rules.model import Condition, Rule, RuleIndex

COUNTRIES = ["TH", "KH", "DE", "FR", "NL", "BR"]
countries = st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3, unique=True)
bands = st.lists(st.sampled_from(AGE_BANDS), min_size=1, max_size=2, unique=True)
WHEN = {
    "category": st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2),
    "immediate_danger": st.booleans(),
    "consents_to_contact": st.booleans(),
    "incident_country": countries,
    "suspect_nationality": countries,
    "suspect_residence": countries,
    "victim_country": countries,
    "victim_age_band": bands,
    "hosting_country": countries,
    "hotline_country": countries,
}
whens = st.dictionaries(st.sampled_from(sorted(WHEN)), st.none(), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({key: WHEN[key] for key in keys})
)
some = st.lists(st.sampled_from(COUNTRIES), max_size=2, unique=True).map(
    lambda codes: tuple(sorted(codes))
)
facts = st.builds(
    Facts,
    category=st.sampled_from(CATEGORIES),
    immediate_danger=st.booleans(),
    incident_country=st.none() | st.sampled_from(COUNTRIES),
    suspect_nationalities=some,
    suspect_residence_countries=some,
    victim_countries=some,
    victim_age_bands=st.lists(st.sampled_from(AGE_BANDS), max_size=2, unique=True).map(
        lambda found: tuple(sorted(found))
    ),
    hosting_countries=some,
    hotline_country=st.none() | st.sampled_from(COUNTRIES),
    consents_to_contact=st.booleans(),
)


def _rule(order: int, when: dict) -> Rule:
    return Rule(
        id=f"synthetic-{order}",
        description="Synthetic rule.",
        source="synthetic.yaml",
        order=order,
        role="lead",
        ack_within=timedelta(hours=48),
        fields=frozenset({"reference"}),
        conditions=tuple(Condition.compile(key, value) for key, value in when.items()),
        contact_point="cp-synthetic",
    )


@settings(max_examples=300, deadline=None)
@given(whens=st.lists(whens, max_size=30), facts=facts)
def test_finds_exactly_the_rules_that_apply(whens, facts):
    """Index look-up plus remaining checks selects, once each, what a scan selects."""
    rules = [_rule(order, when) for order, when in enumerate(whens)]
    rule_set = SimpleNamespace(index=RuleIndex(rules))

    found = [rule.order for rule in _applicable(facts, rule_set, date(2026, 6, 1))]

    assert sorted(found) == [rule.order for rule in rules if rule.applies_to(facts)]
