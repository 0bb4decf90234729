"""Loaded rules, compiled for routing: conditions, jurisdictions and the index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from contracts.reports import CATEGORIES
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
    """One routing rule, compiled; `order` is its position in the rule set."""

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


Check = tuple[str, bool, frozenset[Any]]
"""A condition the index leaves to the decision: attribute, many values, allowed."""

Candidate = tuple[Rule, tuple[Check, ...], bool]
"""A rule the index holds, the checks the index leaves to the decision, and
whether the rule sits in several groups (it names several countries)."""

_FLAG_VALUES = ((False, False), (False, True), (True, False), (True, True))
_ANCHOR_FACTS = (
    (None, lambda facts: (None,)),
    ("incident_country", lambda facts: (facts.incident_country,)),
    ("suspect_nationality", lambda facts: facts.suspect_nationalities),
    ("suspect_residence", lambda facts: facts.suspect_residence_countries),
    ("victim_country", lambda facts: facts.victim_countries),
    ("hosting_country", lambda facts: facts.hosting_countries),
    ("hotline_country", lambda facts: (facts.hotline_country,)),
)


def _allows(condition: Condition | None, value: Any) -> bool:
    return condition is None or value in condition.allowed


@dataclass(frozen=True, slots=True)
class _Group:
    """The rules of one anchor country, for one category, urgency and consent.

    Rules without an age-band condition are in `any_band`; the others are
    filed under each band they allow.
    """

    any_band: tuple[Candidate, ...]
    by_band: Mapping[str, tuple[Candidate, ...]]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A rule with the conditions the index checks by placing it."""

    candidate: Candidate
    anchor: Condition | None
    category: Condition | None
    danger: Condition | None
    consent: Condition | None
    band: Condition | None

    @classmethod
    def of(cls, rule: Rule) -> _Compiled:
        anchor = next(
            (c for key in _ANCHORS if (c := rule.condition(key)) is not None), None
        )
        indexed = [
            rule.condition(key)
            for key in (
                "category",
                "immediate_danger",
                "consents_to_contact",
                "victim_age_band",
            )
        ]
        checks = tuple(
            (c.attribute, c.many, c.allowed)
            for c in rule.conditions
            if c is not anchor and all(c is not i for i in indexed)
        )
        band = indexed[3]
        shared = len(anchor.allowed) > 1 if anchor else False
        shared = shared or (band is not None and len(band.allowed) > 1)

        return cls((rule, checks, shared), anchor, *indexed)

    def allows(self, category: str, danger: bool, consent: bool) -> bool:
        return (
            _allows(self.category, category)
            and _allows(self.danger, danger)
            and _allows(self.consent, consent)
        )


class RuleIndex:
    """Rules grouped by anchor country, category, urgency, consent and age band.

    A rule's anchor is its first country condition (incident, suspect
    nationality or residence, victim, hosting, hotline country), or none. A
    decision makes one look-up per country it knows and one per victim age
    band, so its cost does not grow with rules about other countries,
    categories, urgencies or age bands. The index has checked those
    conditions by placing the rule; the rest are left as checks.
    """

    def __init__(self, rules: Iterable[Rule]):
        by_anchor: dict[tuple[str | None, str | None], list[_Compiled]] = {}
        for rule in rules:
            compiled = _Compiled.of(rule)
            anchor = compiled.anchor
            for country in sorted(anchor.allowed) if anchor else [None]:
                key = (anchor.key if anchor else None, country)
                by_anchor.setdefault(key, []).append(compiled)

        # (category, danger, consent) -> one {country: group} map per anchor.
        self._tables: dict[tuple[str, bool, bool], list[dict[Any, _Group]]] = {
            (category, danger, consent): [{} for _ in _ANCHOR_FACTS]
            for category in CATEGORIES
            for danger, consent in _FLAG_VALUES
        }
        anchor_position = {key: n for n, (key, _) in enumerate(_ANCHOR_FACTS)}
        for (anchor_key, country), compiled_rules in by_anchor.items():
            for flags, tables in self._tables.items():
                group = _group([c for c in compiled_rules if c.allows(*flags)])
                if group is not None:
                    tables[anchor_position[anchor_key]][country] = group

    def groups(self, facts: Facts) -> list[tuple[Candidate, ...]]:
        """The groups of rules that may apply to the facts.

        A rule that names several countries or age bands may be in more than
        one group.
        """
        tables = self._tables[
            facts.category, facts.immediate_danger, facts.consents_to_contact
        ]
        bands = facts.victim_age_bands
        found = []
        for table, (_, countries_of) in zip(tables, _ANCHOR_FACTS, strict=True):
            if not table:
                continue
            for country in countries_of(facts):
                group = table.get(country)
                if group is None:
                    continue
                if group.any_band:
                    found.append(group.any_band)
                if group.by_band:
                    for band in bands:
                        banded = group.by_band.get(band)
                        if banded:
                            found.append(banded)

        return found


def _group(compiled_rules: list[_Compiled]) -> _Group | None:
    if not compiled_rules:
        return None

    by_band: dict[str, list[Candidate]] = {}
    for compiled in compiled_rules:
        if compiled.band is not None:
            for band in compiled.band.allowed:
                by_band.setdefault(band, []).append(compiled.candidate)

    return _Group(
        any_band=tuple(c.candidate for c in compiled_rules if c.band is None),
        by_band={band: tuple(found) for band, found in by_band.items()},
    )


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
    # Roles whose overdue referral the SLA clock hands to the next contact
    # point of its chain, besides telling the coordinators.
    escalate_to_fallback: frozenset[str] = frozenset()
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
