"""Loaded rules, compiled for routing: conditions, jurisdictions and the index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from routing_rules.facts import Facts

# Each condition key of a rule's `when`, the Facts attribute it reads, whether
# that attribute holds several values, and how to say it in a sentence.
_CONDITIONS: dict[str, tuple[str, bool, str]] = {
    "category": ("category", False, "the category is {}"),
    "immediate_danger": ("immediate_danger", False, ""),
    "consents_to_contact": ("consents_to_contact", False, ""),
    "incident_country": ("incident_country", False, "the incident happened in {}"),
    "suspect_nationality": (
        "suspect_nationalities",
        True,
        "a suspect is a national of {}",
    ),
    "suspect_residence": (
        "suspect_residence_countries",
        True,
        "a suspect lives in {}",
    ),
    "victim_country": ("victim_countries", True, "a victim is in {}"),
    "victim_age_band": ("victim_age_bands", True, "a victim is in the age band {}"),
    "hosting_country": ("hosting_countries", True, "reported material is hosted in {}"),
    "hotline_country": ("hotline_country", False, "the reporting hotline is in {}"),
}
_FLAGS = {
    ("immediate_danger", True): "a child is believed to be in immediate danger",
    ("immediate_danger", False): "no child is reported to be in immediate danger",
    ("consents_to_contact", True): "the reporter agreed to be contacted by a "
    "support organisation",
    ("consents_to_contact", False): "the reporter did not agree to be contacted",
}

# Conditions that can anchor a rule in the index, most selective first.
_ANCHORS = (
    "incident_country",
    "suspect_nationality",
    "suspect_residence",
    "victim_country",
    "hosting_country",
    "hotline_country",
)


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a rule: a fact must take one of the allowed values."""

    key: str
    attribute: str
    many: bool
    allowed: frozenset[Any]

    @classmethod
    def compile(cls, key: str, value: Any) -> Condition:
        """Build a condition from one `when` entry of a rule file."""
        attribute, many, _ = _CONDITIONS[key]
        allowed = frozenset(value) if isinstance(value, list) else frozenset([value])

        return cls(key, attribute, many, allowed)

    def holds(self, facts: Facts) -> bool:
        """Whether the facts satisfy this condition."""
        value = getattr(facts, self.attribute)
        if self.many:
            return not self.allowed.isdisjoint(value)

        return value in self.allowed

    def describe(self, facts: Facts) -> str:
        """A plain-English clause saying why this condition holds for the facts."""
        value = getattr(facts, self.attribute)
        if isinstance(value, bool):
            return _FLAGS[self.key, value]
        matched = sorted(self.allowed.intersection(value)) if self.many else [value]

        return _CONDITIONS[self.key][2].format(", ".join(matched))


@dataclass(frozen=True, slots=True)
class Rule:
    """One routing rule, compiled; `order` fixes its place in every decision."""

    id: str
    description: str
    source: str
    order: int
    role: str
    ack_within: timedelta
    fields: frozenset[str]
    conditions: tuple[Condition, ...] = ()
    contact_point: str | None = None
    to_country_of: str | None = None
    only_if_prosecutes_abroad: bool = False
    effective_from: date | None = None
    effective_until: date | None = None

    def in_effect_on(self, day: date) -> bool:
        """Whether the rule applies on this day; both bounds are inclusive."""
        if self.effective_from is not None and day < self.effective_from:
            return False

        return self.effective_until is None or day <= self.effective_until

    def applies_to(self, facts: Facts) -> bool:
        """Whether every condition of the rule holds for the facts."""
        return all(condition.holds(facts) for condition in self.conditions)

    def condition(self, key: str) -> Condition | None:
        """The rule's condition on one fact, if it has one."""
        for condition in self.conditions:
            if condition.key == key:
                return condition

        return None


@dataclass(frozen=True, slots=True)
class Embargo:
    """Referrals must not reach this jurisdiction; they go elsewhere instead."""

    reason: str
    refer_instead: str


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """One country's settings from its jurisdiction file."""

    country: str
    source: str
    prosecutes_offences_abroad: bool
    contact_points: Mapping[str, str]
    fallback: str | None = None
    embargo: Embargo | None = None


class RuleIndex:
    """Rules grouped by an anchoring country condition and by category.

    A decision looks up only the groups its facts can reach, so its cost does
    not grow with the rules that concern other countries or categories.
    """

    def __init__(self, rules: Iterable[Rule]):
        self._groups: dict[tuple[str | None, str | None, str | None], list[Rule]] = {}
        for rule in rules:
            for key in self._keys(rule):
                self._groups.setdefault(key, []).append(rule)

    @staticmethod
    def _keys(rule: Rule):
        anchor = next(
            (c for key in _ANCHORS if (c := rule.condition(key)) is not None), None
        )
        category = rule.condition("category")
        categories = sorted(category.allowed) if category else [None]
        countries = sorted(anchor.allowed) if anchor else [None]
        for country in countries:
            for category_value in categories:
                yield (anchor.key if anchor else None, country, category_value)

    def candidates(self, facts: Facts) -> list[Rule]:
        """Rules that may apply to the facts, in rule order, each once."""
        groups = self._groups
        found: dict[int, Rule] = {}
        for anchor, countries in (
            (None, (None,)),
            ("incident_country", (facts.incident_country,)),
            ("suspect_nationality", facts.suspect_nationalities),
            ("suspect_residence", facts.suspect_residence_countries),
            ("victim_country", facts.victim_countries),
            ("hosting_country", facts.hosting_countries),
            ("hotline_country", (facts.hotline_country,)),
        ):
            for country in countries:
                for category in (facts.category, None):
                    for rule in groups.get((anchor, country, category), ()):
                        found[rule.order] = rule

        return [found[order] for order in sorted(found)]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A loaded, validated rule set; `version` is "<version>+sha256:<12 hex>"."""

    version: str
    network: str
    coordinators: str
    rules: tuple[Rule, ...]
    no_rule_applies: Rule
    jurisdictions: Mapping[str, Jurisdiction]
    fallbacks: Mapping[str, str]
    index: RuleIndex
    files: tuple[str, ...] = ()
    rules_by_id: Mapping[str, Rule] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, the coordinators' rule included."""
        return self.rules_by_id.get(rule_id)
