"""Properties every decision holds, over generated synthetic reports."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.reports import AGE_BANDS, CATEGORIES
from routing_rules import Decision, DirectoryView, Facts, decide, load_rule_set
from routing_rules.yamlfile import read_yaml

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
# Reports that reach the rules with effective dates (abuse material or grooming
# with a victim in PH), which the reports above reach too seldom.
dated_reports = st.builds(
    lambda report, category, victim: {
        **report,
        "category": category,
        "victims": [*report["victims"], victim],
    },
    reports,
    st.sampled_from(["online_abuse_material", "grooming"]),
    st.fixed_dictionaries(
        {"age_band": st.sampled_from(AGE_BANDS), "country": st.just("PH")}
    ),
)
any_reports = reports | dated_reports
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
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_every_report_gets_a_referral(report, hotline, name, at):
    """Every report is referred to at least one contact point."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    assert decision.referrals


def _reversed_mappings(document: Any) -> Any:
    """The same YAML document with every mapping's keys in reverse order."""
    if isinstance(document, dict):
        return {
            key: _reversed_mappings(value) for key, value in reversed(document.items())
        }
    if isinstance(document, list):
        return [_reversed_mappings(item) for item in document]

    return document


def _rewritten_copy(folder: Path, target: Path) -> Path:
    """A copy of a rule set that means the same but is written otherwise.

    Every mapping (`when` conditions, contact points, fallbacks, ...) has its
    keys in reverse order and the jurisdiction files are created in reverse
    order; rules keep their order, which breaks ties between equal referrals.
    """
    (target / "jurisdictions").mkdir(parents=True)
    (target / "directory.yaml").write_bytes((folder / "directory.yaml").read_bytes())
    paths = sorted((folder / "jurisdictions").glob("*.yaml"), reverse=True)
    for path in [folder / "network.yaml", *paths]:
        document = _reversed_mappings(read_yaml(path))
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        (target / path.relative_to(folder)).write_text(text)

    return target


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory) -> dict[str, Any]:
    """Each rule set loaded afresh from its rewritten copy."""
    loaded = {}
    for name, folder in (("test", RULESET), ("demo", DEMO)):
        copy = _rewritten_copy(folder, tmp_path_factory.mktemp(f"rewritten-{name}"))
        loaded[name] = _load(copy)[0]

    return loaded


@SETTINGS
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_same_input_gives_same_decision(report, hotline, name, at, rewritten):
    """A decision served from the route memo equals one made from scratch.

    The first two decisions share a warm rule set; the last is made with a
    rule set loaded again from a rewritten copy of the files, over a directory
    view built in reverse order, so nothing is remembered from before.
    """
    rule_set, directory = RULE_SETS[name]
    facts = Facts.from_report(report, hotline)
    first = decide(facts, rule_set, directory, at)
    warm = decide(facts, rule_set, directory, at)
    fresh_rule_set = rewritten[name]
    cold_directory = DirectoryView(reversed(list(directory)))
    assert cold_directory not in fresh_rule_set.route_memo

    cold = decide(
        Facts.from_report(report, hotline), fresh_rule_set, cold_directory, at
    )

    assert warm == first
    assert (cold.referrals, cold.to_coordinators) == (
        first.referrals,
        first.to_coordinators,
    )
    assert cold.rule_set_version.split("+")[0] == first.rule_set_version.split("+")[0]


def _sample_reports(count: int) -> list[tuple[dict[str, Any], str | None, datetime]]:
    """Synthetic reports, hotline countries and moments from a fixed seed."""
    chooser = random.Random(20261201)

    def some(values: list[str], most: int) -> list[str]:
        return chooser.sample(values, chooser.randint(0, most))

    samples = []
    for number in range(count):
        report: dict[str, Any] = {
            "reference": f"SYNTH-{number:06d}",
            "category": chooser.choice(CATEGORIES),
            "immediate_danger": chooser.random() < 0.3,
            "suspects": [
                {"nationalities": some(COUNTRIES, 3)}
                | ({"residence_country": chooser.choice(COUNTRIES)} if n % 2 else {})
                for n in range(chooser.randint(0, 3))
            ],
            "victims": [
                {"age_band": chooser.choice(AGE_BANDS), "country": country}
                for country in some(COUNTRIES, 2)
            ],
            "online": {"hosting_countries": some(COUNTRIES, 3)},
            "reporter": {"consents_to_contact": chooser.random() < 0.5},
        }
        if chooser.random() < 0.8:
            report["incident"] = {"country": chooser.choice(COUNTRIES)}
        hotline = chooser.choice([None, *COUNTRIES])
        at = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(days=chooser.randint(0, 900))
        samples.append((report, hotline, at))

    return samples


def _decision_json(decision: Decision) -> dict[str, Any]:
    return {
        "rule_set_version": decision.rule_set_version,
        "to_coordinators": decision.to_coordinators,
        "referrals": [
            {
                "contact_point_id": referral.contact_point_id,
                "role": referral.role,
                "ack_within_seconds": referral.ack_within.total_seconds(),
                "fields": sorted(referral.fields),
                "rule_id": referral.rule_id,
                "reasons": list(referral.reasons),
            }
            for referral in decision.referrals
        ],
    }


def sample_decisions() -> str:
    """The decisions on the sample reports under both rule sets, as JSON."""
    loaded = [_load(RULESET), _load(DEMO)]
    decisions = [
        _decision_json(decide(Facts.from_report(report, hotline), *rules, at))
        for report, hotline, at in _sample_reports(300)
        for rules in loaded
    ]

    return json.dumps(decisions)


def test_decisions_do_not_depend_on_string_hashing():
    """Interpreters with other hash seeds (other set and dict orders) decide alike."""
    expected = sample_decisions()
    root = Path(__file__).parents[2]
    script = "from tests.routing_rules.test_properties import sample_decisions\n"
    script += "print(sample_decisions())"

    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        finished = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )

        assert finished.stdout.strip() == expected, f"PYTHONHASHSEED={seed}"


@SETTINGS
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, data=st.data())
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
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_no_contact_point_appears_twice(report, hotline, name, at):
    """A decision refers the report to each contact point at most once."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    receivers = [referral.contact_point_id for referral in decision.referrals]
    assert len(receivers) == len(set(receivers))


# What follows reads the rule files and the report on its own, without the
# engine's loader, facts or conditions, to judge the engine's decisions.

_REPORT_COUNTRY_KEYS = {
    "incident_country",
    "suspect_nationality",
    "suspect_residence",
    "victim_country",
    "hosting_country",
    "hotline_country",
}
_RELATIONS = {
    "incident": ("incident_country",),
    "suspects": ("suspect_nationality", "suspect_residence"),
    "suspect_nationality": ("suspect_nationality",),
    "suspect_residence": ("suspect_residence",),
    "victims": ("victim_country",),
    "hosting": ("hosting_country",),
    "hotline": ("hotline_country",),
}
_APPLIES = re.compile(r"^Rule '([a-z0-9-]+)' applies: ")


def _raw(path: Path) -> dict[str, Any]:
    # BaseLoader reads every scalar as a string: no booleans, dates or numbers.
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # noqa: S506


def _raw_rule_set(folder: Path) -> dict[str, Any]:
    """The rules by id, the no-rule rule's id, and who prosecutes abroad."""
    network = _raw(folder / "network.yaml")
    rules = {rule["id"]: rule for rule in network.get("rules", [])}
    prosecutes = set()
    for path in (folder / "jurisdictions").glob("*.yaml"):
        jurisdiction = _raw(path)
        rules.update((rule["id"], rule) for rule in jurisdiction.get("rules", []))
        if jurisdiction.get("prosecutes_offences_abroad") == "true":
            prosecutes.add(jurisdiction["country"].upper())

    return {
        "rules": rules,
        "no_rule_applies": network["no_rule_applies"]["id"],
        "prosecutes": prosecutes,
    }


RAW_RULE_SETS = {"test": _raw_rule_set(RULESET), "demo": _raw_rule_set(DEMO)}


def _report_values(report: dict[str, Any], hotline: str | None) -> dict[str, set]:
    """For each `when` key, the values the report gives it, as rule files write them."""
    suspects = report.get("suspects", [])
    victims = report.get("victims", [])
    incident = report.get("incident", {}).get("country")
    flag = {True: "true", False: "false"}

    return {
        "category": {report["category"]},
        "immediate_danger": {flag[report["immediate_danger"]]},
        "consents_to_contact": {
            flag[report.get("reporter", {}).get("consents_to_contact", False)]
        },
        "incident_country": {incident} if incident else set(),
        "suspect_nationality": {c for s in suspects for c in s["nationalities"]},
        "suspect_residence": {
            s["residence_country"] for s in suspects if "residence_country" in s
        },
        "victim_country": {v["country"] for v in victims if "country" in v},
        "victim_age_band": {v["age_band"] for v in victims},
        "hosting_country": set(report.get("online", {}).get("hosting_countries", [])),
        "hotline_country": {hotline} if hotline else set(),
    }


def _holds(rule: dict[str, Any], values: dict[str, set]) -> bool:
    for key, allowed in (rule.get("when") or {}).items():
        allowed = set(allowed) if isinstance(allowed, list) else {allowed}
        if key in _REPORT_COUNTRY_KEYS:
            allowed = {code.upper() for code in allowed}
        if allowed.isdisjoint(values[key]):
            return False

    return True


def _in_effect(rule: dict[str, Any], day: date) -> bool:
    starts, ends = rule.get("effective_from"), rule.get("effective_until")

    return (starts is None or date.fromisoformat(starts) <= day) and (
        ends is None or day <= date.fromisoformat(ends)
    )


def _targets(rule: dict[str, Any], values: dict[str, set], prosecutes: set) -> set:
    """The countries a `to_country_of` rule refers the report to."""
    countries = set().union(*(values[key] for key in _RELATIONS[rule["to_country_of"]]))
    if rule.get("only_if_prosecutes_abroad") == "true":
        countries = (countries & prosecutes) - values["incident_country"]

    return countries


def _firing_rules(name: str, report, hotline, at: datetime) -> set[str]:
    """Ids of the rules that, read from the files, fire for this report."""
    raw = RAW_RULE_SETS[name]
    values = _report_values(report, hotline)
    day = at.astimezone(UTC).date()

    return {
        rule_id
        for rule_id, rule in raw["rules"].items()
        if _in_effect(rule, day)
        and _holds(rule, values)
        and ("contact_point" in rule or _targets(rule, values, raw["prosecutes"]))
    }


@SETTINGS
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_every_referral_names_a_rule_that_explains_it(report, hotline, name, at):
    """Each referral names a rule in effect on the day whose conditions hold for
    the report, in the referral's role, says that it applies and to which of
    the report's countries; only a report no rule fires for goes to the
    coordinators with the no-rule rule."""
    rule_set, directory = RULE_SETS[name]
    raw = RAW_RULE_SETS[name]
    firing = _firing_rules(name, report, hotline, at)

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    for referral in decision.referrals:
        assert rule_set.rule(referral.rule_id) is not None
        if referral.rule_id == raw["no_rule_applies"]:
            assert not firing
            assert decision.to_coordinators
            assert len(decision.referrals) == 1
            assert referral.reasons[0].startswith("No rule applies to this report")
            continue
        rule = raw["rules"][referral.rule_id]
        assert referral.rule_id in firing
        assert referral.role == rule["role"]
        applies = f"Rule '{referral.rule_id}' applies: "
        assert any(reason.startswith(applies) for reason in referral.reasons)
        if "to_country_of" in rule:
            targets = _targets(rule, _report_values(report, hotline), raw["prosecutes"])
            said = {f"the referral goes to {c}'s {rule['role']} " for c in targets}
            assert any(part in reason for part in said for reason in referral.reasons)


@SETTINGS
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_every_rule_that_fires_is_behind_a_referral(report, hotline, name, at):
    """The rules said to apply are exactly those that fire, read from the files."""
    rule_set, directory = RULE_SETS[name]
    firing = _firing_rules(name, report, hotline, at)

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    said_to_apply = {
        match[1]
        for referral in decision.referrals
        for reason in referral.reasons
        if (match := _APPLIES.match(reason))
    }
    assert said_to_apply == firing
    assert decision.to_coordinators == (not firing)


@SETTINGS
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, at=moments)
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
@given(report=any_reports, hotline=hotline_countries, name=rule_sets, at=moments)
def test_support_referrals_never_carry_suspects(report, hotline, name, at):
    """A support organisation never receives the suspects' identity."""
    rule_set, directory = RULE_SETS[name]

    decision = decide(Facts.from_report(report, hotline), rule_set, directory, at)

    for referral in decision.referrals:
        if referral.role == "support":
            assert "suspects" not in referral.fields
