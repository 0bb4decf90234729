"""Loaded rules, compiled for routing: conditions, jurisdictions and the index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from routing_rules.facts import CATEGORIES, Facts

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


Candidate = tuple[Rule, tuple[Condition, ...], bool]
"""A rule the index holds, the conditions the index does not check, and whether
the rule sits in several groups (it names several countries)."""


class RuleIndex:
    """Rules grouped by an anchoring country condition and by category.

    A rule's anchor is its first country condition (incident, suspect
    nationality or residence, victim, hosting, hotline country). A decision
    looks up only the groups its facts can reach, so its cost does not grow
    with rules about other countries or categories; the index has checked the
    anchor and category conditions of what it returns.
    """

    def __init__(self, rules: Iterable[Rule]):
        by_key: dict[tuple[str | None, str | None, str | None], list[Candidate]] = {}
        for rule in rules:
            anchor = next(
                (c for key in _ANCHORS if (c := rule.condition(key)) is not None),
                None,
            )
            category = rule.condition("category")
            unchecked = tuple(
                c for c in rule.conditions if c is not anchor and c is not category
            )
            countries = sorted(anchor.allowed) if anchor else [None]
            candidate = (rule, unchecked, len(countries) > 1)
            for country in countries:
                for category_value in sorted(category.allowed) if category else [None]:
                    key = (anchor.key if anchor else None, country, category_value)
                    by_key.setdefault(key, []).append(candidate)

        # Each group also holds the rules of any category, so that a decision
        # needs one look-up per country it knows.
        self._groups: dict[tuple[str | None, str | None, str], list[Candidate]] = {}
        for anchor_key, country in {(a, c) for a, c, _ in by_key}:
            any_category = by_key.get((anchor_key, country, None), [])
            for category_value in CATEGORIES:
                found = by_key.get((anchor_key, country, category_value), [])
                if found or any_category:
                    self._groups[anchor_key, country, category_value] = sorted(
                        found + any_category, key=lambda candidate: candidate[0].order
                    )

    def groups(self, facts: Facts) -> list[list[Candidate]]:
        """The groups of rules that may apply to the facts.

        A rule that names several countries may be in more than one group.
        """
        groups = self._groups
        category = facts.category
        found = []
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
                group = groups.get((anchor, country, category))
                if group is not None:
                    found.append(group)

        return found


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
    # Routes resolved against each directory; a DirectoryView never changes
    # once built, and the router builds a new one when its directory changes.
    route_memo: WeakKeyDictionary = field(
        default_factory=WeakKeyDictionary, compare=False, repr=False
    )

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, the coordinators' rule included."""
        return self.rules_by_id.get(rule_id)
