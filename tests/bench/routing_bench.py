"""Benchmark of routing decisions against rule sets of growing size.

Run with `python -m tests.bench.routing_bench`. Everything here is synthetic:
the rule sets, the contact points and the reports are generated. Each size
(10 to 10,000 rules over the 249 countries pycountry knows) is written to a
temporary folder and loaded with the real loader, so the index under test is
the one the router uses.

Generated rules are specific, as a large network's rules would be: each names
one country (incident, suspect nationality or victim country), one category
and one victim age band, half of them an urgency, and a quarter of them a
reporting hotline's country, which the index leaves to a check one rule at a
time. So a larger rule set also fires somewhat more rules per report; the
figures show how many rules each decision looked at and how many referrals
it made.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pycountry
import yaml

from contracts.reports import AGE_BANDS, CATEGORIES
from routing_rules import (
    ContactPointView,
    DirectoryView,
    Facts,
    RuleSet,
    decide,
    load_rule_set,
)

SIZES = (10, 100, 1_000, 10_000)
REPORTS = 5_000
SECONDS_PER_SIZE = 3.0
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
COUNTRIES = sorted(country.alpha_2 for country in pycountry.countries)
REGIONS = ("cp-bureau-a", "cp-bureau-b", "cp-bureau-c", "cp-bureau-d")
ANCHORS = ("incident_country", "suspect_nationality", "victim_country")

NETWORK = {
    "network": "bench",
    "version": "bench-1",
    "coordinators": "cp-coordinators",
    "role_fields": {
        "lead": ["reference", "category", "incident", "suspects", "victims"],
        "informed": ["reference", "category", "incident", "suspects"],
        "support": ["reference", "category", "incident", "victims"],
    },
    "fallbacks": {region: "cp-coordinators" for region in REGIONS},
    "no_rule_applies": {"id": "no-rule-applies", "description": "Synthetic."},
    "rules": [
        {
            "id": "incident-country-leads",
            "description": "Synthetic: the incident country leads.",
            "role": "lead",
            "to_country_of": "incident",
        },
        {
            "id": "immediate-danger-fast-lead",
            "description": "Synthetic: a child in danger now.",
            "when": {"immediate_danger": True},
            "role": "lead",
            "to_country_of": "incident",
            "ack_within_hours": 2,
        },
        {
            "id": "suspect-country-informed",
            "description": "Synthetic: suspects' countries prosecuting abroad.",
            "role": "informed",
            "to_country_of": "suspects",
            "only_if_prosecutes_abroad": True,
        },
        {
            "id": "hosting-country-informed",
            "description": "Synthetic: hosting countries.",
            "role": "informed",
            "to_country_of": "hosting",
        },
        {
            "id": "victim-country-support",
            "description": "Synthetic: support with consent.",
            "when": {"consents_to_contact": True},
            "role": "support",
            "to_country_of": "victims",
        },
    ],
}


@dataclass(frozen=True)
class Measure:
    """Decisions per second, with the work each decision does on average."""

    rate: float
    candidates: float
    referrals: float


def synthetic_directory(rng: random.Random) -> DirectoryView:
    """Police, bureau and some NGO contact points for every country."""
    contact_points = [ContactPointView("cp-coordinators", "coordinator", None)]
    contact_points += [ContactPointView(r, "national_bureau", None) for r in REGIONS]
    for code in COUNTRIES:
        low = code.lower()
        contact_points.append(
            ContactPointView(f"cp-{low}-police", "police", code, rng.random() < 0.03)
        )
        contact_points.append(
            ContactPointView(f"cp-{low}-bureau", "national_bureau", code)
        )
        contact_points.append(ContactPointView(f"cp-{low}-ngo", "ngo", code))

    return DirectoryView(contact_points)


def _specific_rule(number: int, rng: random.Random) -> tuple[str, dict]:
    country = rng.choice(COUNTRIES)
    when = {
        rng.choice(ANCHORS): [country],
        "category": [rng.choice(CATEGORIES)],
        "victim_age_band": [rng.choice(AGE_BANDS)],
    }
    if rng.random() < 0.5:
        when["immediate_danger"] = rng.random() < 0.5
    if rng.random() < 0.25:
        when["hotline_country"] = rng.sample(COUNTRIES, 3)
    rule = {
        "id": f"bench-{number}",
        "description": f"Synthetic rule {number}.",
        "when": when,
        "role": rng.choice(("lead", "informed")),
        "contact_point": f"cp-{country.lower()}-{rng.choice(('police', 'bureau'))}",
        "ack_within_hours": rng.choice((2, 12, 24, 48)),
    }
    return country, rule


def write_rule_set(folder: Path, size: int) -> None:
    """Write a synthetic rule set of `size` rules, network rules included.

    The jurisdictions are the same at every size; only the rules differ.
    """
    rng = random.Random(20261203)
    jurisdictions = {
        code: {
            "country": code,
            "prosecutes_offences_abroad": rng.random() < 0.3,
            "contact_points": {
                "lead": f"cp-{code.lower()}-police",
                "informed": f"cp-{code.lower()}-bureau",
                **({"support": f"cp-{code.lower()}-ngo"} if rng.random() < 0.5 else {}),
            },
            "fallback": rng.choice(REGIONS),
            "rules": [],
        }
        for code in COUNTRIES
    }
    rng = random.Random(size)
    for number in range(size - len(NETWORK["rules"])):
        country, rule = _specific_rule(number, rng)
        jurisdictions[country]["rules"].append(rule)

    (folder / "jurisdictions").mkdir(parents=True)
    (folder / "network.yaml").write_text(yaml.safe_dump(NETWORK))
    for code, document in jurisdictions.items():
        path = folder / "jurisdictions" / f"{code.lower()}.yaml"
        path.write_text(yaml.safe_dump(document))


def synthetic_facts(rng: random.Random) -> Facts:
    """Facts of one random synthetic report."""

    def some(most: int) -> tuple[str, ...]:
        return tuple(sorted(set(rng.sample(COUNTRIES, rng.randint(0, most)))))

    return Facts(
        category=rng.choice(CATEGORIES),
        immediate_danger=rng.random() < 0.2,
        incident_country=rng.choice(COUNTRIES) if rng.random() < 0.9 else None,
        suspect_nationalities=some(3),
        suspect_residence_countries=some(2),
        victim_countries=some(2),
        victim_age_bands=tuple(sorted(set(rng.sample(AGE_BANDS, rng.randint(0, 2))))),
        hosting_countries=some(2),
        hotline_country=rng.choice(COUNTRIES),
        consents_to_contact=rng.random() < 0.5,
    )


def load(size: int, directory: DirectoryView) -> RuleSet:
    """Write a synthetic rule set of `size` rules and load it."""
    with tempfile.TemporaryDirectory() as folder:
        write_rule_set(Path(folder), size)
        return load_rule_set(folder, directory)


def measure(
    rule_sets: dict[int, RuleSet], facts: list[Facts], directory: DirectoryView
) -> dict[int, Measure]:
    """Decisions per second on one core against each rule set.

    Sizes take turns, one round of every report each, so that a busy spell of
    a shared machine slows them all alike; each figure is the median round.
    """
    referrals = {}
    for size, rule_set in rule_sets.items():
        # Warm up: resolve every route once.
        decided = [decide(one, rule_set, directory, AT) for one in facts]
        referrals[size] = sum(len(d.referrals) for d in decided) / len(facts)

    round_rates: dict[int, list[float]] = {size: [] for size in rule_sets}
    deadline = time.perf_counter() + SECONDS_PER_SIZE * len(rule_sets)
    while time.perf_counter() < deadline or len(round_rates[SIZES[0]]) < 5:
        for size, rule_set in rule_sets.items():
            started = time.perf_counter()
            for one in facts:
                decide(one, rule_set, directory, AT)
            round_rates[size].append(len(facts) / (time.perf_counter() - started))

    return {
        size: Measure(
            rate=statistics.median(round_rates[size]),
            candidates=sum(
                len(group) for one in facts for group in rule_set.index.groups(one)
            )
            / len(facts),
            referrals=referrals[size],
        )
        for size, rule_set in rule_sets.items()
    }


def main() -> None:
    """Measure every size and print the figures."""
    rng = random.Random(20261203)
    directory = synthetic_directory(rng)
    facts = [synthetic_facts(rng) for _ in range(REPORTS)]
    rule_sets = {size: load(size, directory) for size in SIZES}

    print(f"{len(COUNTRIES)} countries, {REPORTS} synthetic reports")
    measured = measure(rule_sets, facts, directory)
    for size, figures in measured.items():
        print(
            f"{size:>6} rules: {figures.rate:>9,.0f} decisions/s "
            f"({1e6 / figures.rate:5.1f} µs per decision; "
            f"{figures.candidates:.1f} candidate rules, "
            f"{figures.referrals:.1f} referrals per decision)"
        )

    ratio = measured[100].rate / measured[10_000].rate
    print(f"cost per decision at 10,000 rules / at 100 rules: {ratio:.2f}")


if __name__ == "__main__":
    main()
