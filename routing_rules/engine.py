"""Routing: from the facts of a report to its referrals, and why.

`decide` is a pure function of the facts, the rule set, the directory and the
time: it stores nothing and reads no clock, so a decision can be replayed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from routing_rules.directory import ContactPointView, DirectoryView
from routing_rules.facts import Facts
from routing_rules.model import Embargo, Rule, RuleSet

_ROLE_STRENGTH = {"lead": 0, "informed": 1, "support": 2}


@dataclass(frozen=True, slots=True)
class ReferralDecision:
    """One contact point to receive the report, in one role, by one deadline."""

    contact_point_id: str
    role: str
    ack_within: timedelta
    fields: frozenset[str]
    rule_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a report goes, under which rule set version."""

    rule_set_version: str
    referrals: tuple[ReferralDecision, ...]
    to_coordinators: bool


@dataclass(slots=True)
class _Firing:
    """One rule sending the report to one contact point."""

    rule: Rule
    contact_point_id: str
    reasons: tuple[str, ...]


@dataclass(slots=True)
class _Referral:
    """The firings that ended at one contact point, merged into one referral."""

    contact_point_id: str
    firings: list[_Firing] = field(default_factory=list)

    def decision(self) -> ReferralDecision:
        strongest = min(
            self.firings,
            key=lambda firing: (
                _ROLE_STRENGTH[firing.rule.role],
                firing.rule.ack_within,
            ),
        )
        reasons: dict[str, None] = {}
        for firing in self.firings:
            reasons.update(dict.fromkeys(firing.reasons))

        return ReferralDecision(
            contact_point_id=self.contact_point_id,
            role=strongest.rule.role,
            ack_within=min(firing.rule.ack_within for firing in self.firings),
            fields=frozenset().union(*(firing.rule.fields for firing in self.firings)),
            rule_id=strongest.rule.id,
            reasons=tuple(reasons),
        )


def _day(at: datetime) -> date:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("'at' must be an aware datetime")

    return at.astimezone(UTC).date()


def _target_countries(rule: Rule, facts: Facts, rule_set: RuleSet) -> Iterator[str]:
    """Countries a `to_country_of` rule refers to, with the abroad filter applied."""
    relation = rule.to_country_of
    if relation == "incident":
        countries: tuple[str | None, ...] = (facts.incident_country,)
    elif relation == "suspects":
        countries = facts.suspect_countries
    elif relation == "suspect_nationality":
        countries = facts.suspect_nationalities
    elif relation == "suspect_residence":
        countries = facts.suspect_residence_countries
    elif relation == "victims":
        countries = facts.victim_countries
    elif relation == "hosting":
        countries = facts.hosting_countries
    else:
        countries = (facts.hotline_country,)

    for country in countries:
        if country is None:
            continue
        if rule.only_if_prosecutes_abroad:
            jurisdiction = rule_set.jurisdictions.get(country)
            if country == facts.incident_country or not (
                jurisdiction and jurisdiction.prosecutes_offences_abroad
            ):
                continue
        yield country


def _why_country(rule: Rule, country: str) -> str:
    relation = rule.to_country_of
    if relation == "incident":
        why = f"The incident happened in {country}"
    elif relation in ("suspects", "suspect_nationality", "suspect_residence"):
        why = f"A suspect is a national or resident of {country}"
        if rule.only_if_prosecutes_abroad:
            why += ", which prosecutes offences committed abroad"
    elif relation == "victims":
        why = f"A victim is in {country}"
    elif relation == "hosting":
        why = f"Reported material is hosted in {country}"
    else:
        why = f"The reporting hotline is in {country}"

    return f"{why}; the referral goes to {country}'s {rule.role} contact point."


class Resolver:
    """Finds the contact point that actually receives a referral."""

    def __init__(self, rule_set: RuleSet, directory: DirectoryView):
        self.rule_set = rule_set
        self.directory = directory

    def for_country(self, country: str, role: str) -> tuple[str, list[str]]:
        """The contact point of a country for a role, after embargo and fallbacks."""
        jurisdiction = self.rule_set.jurisdictions.get(country)
        if jurisdiction is None:
            steps = [
                f"No jurisdiction file describes {country}; the referral goes to "
                f"the coordinators' contact point {self.rule_set.coordinators}."
            ]
            return self.follow(self.rule_set.coordinators, steps)

        embargo = jurisdiction.embargo
        if embargo is not None:
            steps = [
                f"{country} is embargoed ({embargo.reason}); the referral goes to "
                f"{embargo.refer_instead} instead."
            ]
            return self.follow(embargo.refer_instead, steps)

        contact_point_id = jurisdiction.contact_points.get(role)
        if contact_point_id is not None:
            return self.follow(contact_point_id, [])

        start = jurisdiction.fallback or self.rule_set.coordinators
        steps = [
            f"{country} has no contact point for the {role} role; the referral "
            f"goes to {start} instead."
        ]
        return self.follow(start, steps)

    def follow(self, contact_point_id: str, steps: list[str]) -> tuple[str, list[str]]:
        """Walk the fallback chain from a contact point to one that can receive.

        A contact point cannot receive when it is suspended, missing from the
        directory, or in an embargoed country. The chain goes to the embargo's
        replacement, then the contact point's own fallback, then its
        country's fallback, then the coordinators, never twice to the same place.
        """
        visited: set[str] = set()
        while True:
            visited.add(contact_point_id)
            view = self.directory.get(contact_point_id)
            embargo = self._embargo(view)
            if view is not None and not view.suspended and embargo is None:
                return contact_point_id, steps

            if embargo is not None and embargo.refer_instead not in visited:
                following: str | None = embargo.refer_instead
                state = f"is in {view.country}, which is embargoed ({embargo.reason})"
            else:
                following = self._next(contact_point_id, view, visited)
                state = _unavailable(view)
            if following is None:
                steps.append(
                    f"{contact_point_id} {state}, but it ends the fallback chain, "
                    "so it receives the referral anyway."
                )
                return contact_point_id, steps

            steps.append(
                f"{contact_point_id} {state}; the referral goes to {following} instead."
            )
            contact_point_id = following

    def _embargo(self, view: ContactPointView | None) -> Embargo | None:
        if view is None or view.country is None:
            return None
        jurisdiction = self.rule_set.jurisdictions.get(view.country)

        return jurisdiction.embargo if jurisdiction is not None else None

    def _next(
        self, contact_point_id: str, view: ContactPointView | None, visited: set[str]
    ) -> str | None:
        candidates = [self.rule_set.fallbacks.get(contact_point_id)]
        if view is not None and view.country is not None:
            jurisdiction = self.rule_set.jurisdictions.get(view.country)
            candidates.append(jurisdiction.fallback if jurisdiction else None)
        candidates.append(self.rule_set.coordinators)

        return next((c for c in candidates if c is not None and c not in visited), None)


def _unavailable(view: ContactPointView | None) -> str:
    if view is None:
        return "is not in the directory"
    if view.suspended:
        return "is suspended"

    return f"is in {view.country}, which is embargoed"


def _fire(
    facts: Facts, rule_set: RuleSet, directory: DirectoryView, at: datetime
) -> tuple[list[_Referral], bool]:
    """Every rule in effect that applies, merged per receiving contact point."""
    day = _day(at)
    resolver = Resolver(rule_set, directory)
    referrals: dict[str, _Referral] = {}
    for rule in rule_set.index.candidates(facts):
        if not rule.in_effect_on(day) or not rule.applies_to(facts):
            continue
        for contact_point_id, reasons in _targets(rule, facts, rule_set, resolver):
            referral = referrals.get(contact_point_id)
            if referral is None:
                referral = referrals[contact_point_id] = _Referral(contact_point_id)
            referral.firings.append(_Firing(rule, contact_point_id, reasons))

    to_coordinators = not referrals
    if to_coordinators:
        rule = rule_set.no_rule_applies
        contact_point_id, steps = resolver.follow(rule.contact_point, [])
        reasons = (
            f"No rule applies to this report, so it goes to the coordinators: "
            f"{rule.description}",
            *steps,
        )
        referral = _Referral(
            contact_point_id, [_Firing(rule, contact_point_id, reasons)]
        )
        referrals[contact_point_id] = referral

    ordered = sorted(
        referrals.values(),
        key=lambda referral: min(
            _ROLE_STRENGTH[firing.rule.role] for firing in referral.firings
        ),
    )
    return ordered, to_coordinators


def _targets(
    rule: Rule, facts: Facts, rule_set: RuleSet, resolver: Resolver
) -> Iterator[tuple[str, tuple[str, ...]]]:
    applies = f"Rule '{rule.id}' applies: {rule.description}"
    if rule.contact_point is not None:
        contact_point_id, steps = resolver.follow(rule.contact_point, [])
        yield contact_point_id, (applies, *steps)
        return

    for country in _target_countries(rule, facts, rule_set):
        contact_point_id, steps = resolver.for_country(country, rule.role)
        yield contact_point_id, (applies, _why_country(rule, country), *steps)


def decide(
    facts: Facts, rule_set: RuleSet, directory: DirectoryView, at: datetime
) -> Decision:
    """Decide where a report goes; never returns an empty list of referrals."""
    referrals, to_coordinators = _fire(facts, rule_set, directory, at)

    return Decision(
        rule_set_version=rule_set.version,
        referrals=tuple(referral.decision() for referral in referrals),
        to_coordinators=to_coordinators,
    )


def explain(
    facts: Facts, rule_set: RuleSet, directory: DirectoryView, at: datetime
) -> dict[str, Any]:
    """The decision with, for each referral, the rules that fired and why."""
    referrals, to_coordinators = _fire(facts, rule_set, directory, at)
    explained = []
    for referral in referrals:
        decided = referral.decision()
        explained.append(
            {
                **_referral_dict(decided),
                "fired": [_firing_dict(firing, facts) for firing in referral.firings],
            }
        )

    return {
        "rule_set_version": rule_set.version,
        "at": at.isoformat(),
        "to_coordinators": to_coordinators,
        "facts": facts.as_dict(),
        "referrals": explained,
    }


def _referral_dict(referral: ReferralDecision) -> dict[str, Any]:
    return {
        "contact_point_id": referral.contact_point_id,
        "role": referral.role,
        "ack_within_hours": referral.ack_within / timedelta(hours=1),
        "fields": sorted(referral.fields),
        "rule_id": referral.rule_id,
        "reasons": list(referral.reasons),
    }


def _firing_dict(firing: _Firing, facts: Facts) -> dict[str, Any]:
    rule = firing.rule
    return {
        "rule_id": rule.id,
        "file": rule.source,
        "role": rule.role,
        "ack_within_hours": rule.ack_within / timedelta(hours=1),
        "conditions": [condition.describe(facts) for condition in rule.conditions],
        "reasons": list(firing.reasons),
    }


def minimise(report: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The part of a report that one role receives: only the named top-level fields.

    The values are copies, so the result can be changed or encrypted without
    touching the report.
    """
    return {
        name: copy.deepcopy(value) for name, value in report.items() if name in fields
    }
