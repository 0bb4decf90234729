"""Routing: from the facts of a report to its referrals, and why.

`decide` is a pure function of the facts, the rule set, the directory and the
time: it reads no clock and writes nothing anywhere, so a decision can be
replayed. It does remember, in memory beside the rule set, the routes it has
resolved against a directory, since those never depend on the report; a
DirectoryView never changes once built, so this cannot change a result.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from routing_rules.directory import ContactPointView, DirectoryView
from routing_rules.facts import Facts
from routing_rules.model import Check, Embargo, Rule, RuleSet

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


class Route(NamedTuple):
    """Where one rule sends a report for one country (or its own contact point)."""

    rule: Rule
    referral: ReferralDecision
    key: tuple[str, str | None]


Firings = dict[str, list[Route]]
"""Per receiving contact point, the routes that end there."""

# A route depends only on the rule set and the directory, never on a report,
# so decisions remember routes per directory. The cap bounds the memory taken
# by country codes that no rule set knows.
_ROUTE_MEMO_LIMIT = 200_000


def _merge(routes: list[Route]) -> ReferralDecision:
    """One referral from every rule that picked the same contact point.

    The strongest role wins (lead, then informed, then support), with the
    shortest deadline and every field any of the rules grants.
    """
    if len(routes) == 1:
        return routes[0].referral

    referrals = [route.referral for route in routes]
    strongest = min(
        referrals,
        key=lambda referral: (_ROLE_STRENGTH[referral.role], referral.ack_within),
    )
    reasons: dict[str, None] = {}
    for referral in referrals:
        reasons.update(dict.fromkeys(referral.reasons))

    return ReferralDecision(
        contact_point_id=strongest.contact_point_id,
        role=strongest.role,
        ack_within=min(referral.ack_within for referral in referrals),
        fields=frozenset().union(*(referral.fields for referral in referrals)),
        rule_id=strongest.rule_id,
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
        link = {
            "suspects": "a national or resident of",
            "suspect_nationality": "a national of",
            "suspect_residence": "a resident of",
        }[relation]
        why = f"A suspect is {link} {country}"
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


def fallback_after(
    rule_set: RuleSet,
    directory: DirectoryView,
    contact_point_id: str,
    exclude: Iterable[str] = (),
) -> tuple[str | None, tuple[str, ...]]:
    """The contact point that takes over a referral from `contact_point_id`.

    It is the next usable one of the chain that has not been tried (`exclude`),
    with the steps taken to reach it; None when the chain is exhausted.
    """
    resolver = Resolver(rule_set, directory)
    tried = {contact_point_id, *exclude}
    following = resolver._next(contact_point_id, directory.get(contact_point_id), tried)
    if following is None:
        return None, ()
    steps = [f"{contact_point_id} handed the referral on; it goes to {following}."]
    found, steps = resolver.follow(following, steps)
    if found in tried:
        return None, tuple(steps)

    return found, tuple(steps)


def _unavailable(view: ContactPointView | None) -> str:
    if view is None:
        return "is not in the directory"
    if view.suspended:
        return "is suspended"

    return f"is in {view.country}, which is embargoed"


def _fire(
    facts: Facts, rule_set: RuleSet, directory: DirectoryView, at: datetime
) -> tuple[Firings, bool]:
    """Every rule in effect that applies, grouped by receiving contact point."""
    day = _day(at)
    memo = _memo(rule_set, directory)
    firings: Firings = {}
    for rule in _applicable(facts, rule_set, day):
        if rule.contact_point is not None:
            countries: Iterable[str | None] = (None,)
        else:
            countries = _target_countries(rule, facts, rule_set)
        for country in countries:
            route = memo.get((rule.id, country))
            if route is None:
                route = _route(rule, country, Resolver(rule_set, directory))
                if len(memo) < _ROUTE_MEMO_LIMIT:
                    memo[rule.id, country] = route
            picked = firings.get(route.referral.contact_point_id)
            if picked is None:
                firings[route.referral.contact_point_id] = [route]
            else:
                picked.append(route)

    to_coordinators = not firings
    if to_coordinators:
        route = _to_coordinators(rule_set, directory)
        firings[route.referral.contact_point_id] = [route]

    return firings, to_coordinators


def _memo(rule_set: RuleSet, directory: DirectoryView) -> dict[Any, Any]:
    """The routes and merged referrals remembered for this directory."""
    memo = rule_set.route_memo.get(directory)
    if memo is None:
        memo = rule_set.route_memo[directory] = {}

    return memo


def _applicable(facts: Facts, rule_set: RuleSet, day: date) -> Iterator[Rule]:
    """The rules in effect on the day whose conditions all hold for the facts."""
    seen: set[int] = set()
    for group in rule_set.index.groups(facts):
        for rule, unchecked, shared in group:
            if shared:
                # A rule about several countries can be in several groups.
                if rule.order in seen:
                    continue
                seen.add(rule.order)
            if (rule.effective_from or rule.effective_until) and not (
                rule.in_effect_on(day)
            ):
                continue
            if unchecked and not _all_hold(unchecked, facts):
                continue
            yield rule


def _all_hold(checks: tuple[Check, ...], facts: Facts) -> bool:
    # Inlined Condition.holds: this is the hottest loop of a decision.
    for attribute, many, allowed in checks:
        value = getattr(facts, attribute)
        if many:
            if allowed.isdisjoint(value):
                return False
        elif value not in allowed:
            return False

    return True


def _route(rule: Rule, country: str | None, resolver: Resolver) -> Route:
    """Where one rule sends a report for one country, and the reasons why."""
    applies = f"Rule '{rule.id}' applies: {rule.description}"
    if country is None:
        contact_point_id, steps = resolver.follow(rule.contact_point, [])
        reasons = (applies, *steps)
    else:
        contact_point_id, steps = resolver.for_country(country, rule.role)
        reasons = (applies, _why_country(rule, country), *steps)

    referral = ReferralDecision(
        contact_point_id, rule.role, rule.ack_within, rule.fields, rule.id, reasons
    )
    return Route(rule, referral, (rule.id, country))


def _to_coordinators(rule_set: RuleSet, directory: DirectoryView) -> Route:
    rule = rule_set.no_rule_applies
    resolver = Resolver(rule_set, directory)
    contact_point_id, steps = resolver.follow(rule.contact_point, [])
    reasons = (
        f"No rule applies to this report, so it goes to the coordinators: "
        f"{rule.description}",
        *steps,
    )
    referral = ReferralDecision(
        contact_point_id, rule.role, rule.ack_within, rule.fields, rule.id, reasons
    )
    return Route(rule, referral, (rule.id, None))


def _referrals(firings: Firings, memo: dict[Any, Any]) -> list[ReferralDecision]:
    """The merged referrals, leads first, then informed, then support."""
    merged = []
    for routes in firings.values():
        if len(routes) == 1:
            merged.append(routes[0].referral)
            continue
        key = tuple(route.key for route in routes)
        referral = memo.get(key)
        if referral is None:
            referral = _merge(routes)
            if len(memo) < _ROUTE_MEMO_LIMIT:
                memo[key] = referral
        merged.append(referral)

    return sorted(merged, key=lambda referral: _ROLE_STRENGTH[referral.role])


def decide(
    facts: Facts, rule_set: RuleSet, directory: DirectoryView, at: datetime
) -> Decision:
    """Decide where a report goes; never returns an empty list of referrals."""
    firings, to_coordinators = _fire(facts, rule_set, directory, at)

    return Decision(
        rule_set_version=rule_set.version,
        referrals=tuple(_referrals(firings, _memo(rule_set, directory))),
        to_coordinators=to_coordinators,
    )


def explain(
    facts: Facts, rule_set: RuleSet, directory: DirectoryView, at: datetime
) -> dict[str, Any]:
    """The decision with, for each referral, the rules that fired and why."""
    firings, to_coordinators = _fire(facts, rule_set, directory, at)
    explained = []
    for referral in _referrals(firings, _memo(rule_set, directory)):
        routes = firings[referral.contact_point_id]
        explained.append(
            {
                **_referral_dict(referral),
                "fired": [_firing_dict(route, facts) for route in routes],
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


def _firing_dict(route: Route, facts: Facts) -> dict[str, Any]:
    rule = route.rule
    return {
        "rule_id": rule.id,
        "file": rule.source,
        "role": rule.role,
        "ack_within_hours": rule.ack_within / timedelta(hours=1),
        "conditions": [condition.describe(facts) for condition in rule.conditions],
        "reasons": list(route.referral.reasons),
    }


def minimise(report: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """The part of a report that one role receives: only the named top-level fields.

    A new mapping whose values are the report's own, not copies: it is made to
    be serialised and sealed at once, so copying each value would be waste.
    Copy it before changing anything inside it.
    """
    return {name: value for name, value in report.items() if name in fields}
