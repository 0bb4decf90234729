"""Checking a loaded rule set against a directory: where are the gaps?"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from routing_rules.directory import DirectoryView
from routing_rules.engine import Resolver
from routing_rules.errors import Problem
from routing_rules.model import RuleSet
from routing_rules.schema import ROLES


@dataclass(frozen=True, slots=True)
class Gap:
    """A country with no usable contact point of its own for one role."""

    country: str
    role: str
    problem: str
    goes_to: str

    def __str__(self) -> str:
        return f"{self.country} {self.role}: {self.problem}; goes to {self.goes_to}"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What `rules check` prints: the version, the countries and the gaps."""

    rule_set_version: str
    countries: tuple[str, ...]
    rule_count: int
    gaps: tuple[Gap, ...]
    problems: tuple[Problem, ...] = ()

    def lines(self) -> list[str]:
        """The result as lines of text for the command line."""
        lines = [
            f"rule set {self.rule_set_version}: {self.rule_count} rules, "
            f"{len(self.countries)} countries",
        ]
        if self.problems:
            lines.append(f"{len(self.problems)} problems with this directory:")
            lines.extend(f"  {problem}" for problem in self.problems)
        if not self.gaps:
            return [*lines, "no gaps"]

        lines.append(f"{len(self.gaps)} gaps (country role: problem; goes to):")
        return [*lines, *(f"  {gap}" for gap in self.gaps)]


def check(rule_set: RuleSet, directory: DirectoryView) -> CheckResult:
    """List, per country and role, where a referral cannot reach the country itself.

    A gap is a role with no contact point, a contact point that is suspended or
    missing from this directory, or an embargoed country. Each gap says where
    referrals go instead.
    """
    resolver = Resolver(rule_set, directory)
    gaps = []
    for country, jurisdiction in rule_set.jurisdictions.items():
        for role in ROLES:
            contact_point_id = jurisdiction.contact_points.get(role)
            goes_to, _ = resolver.for_country(country, role)
            if jurisdiction.embargo is not None:
                problem = f"embargoed ({jurisdiction.embargo.reason})"
            elif contact_point_id is None:
                problem = "no contact point"
            elif goes_to != contact_point_id:
                problem = _state(directory, contact_point_id)
            else:
                continue
            gaps.append(Gap(country, role, problem, goes_to))

    return CheckResult(
        rule_set_version=rule_set.version,
        countries=tuple(rule_set.jurisdictions),
        rule_count=len(rule_set.rules),
        gaps=tuple(gaps),
        problems=tuple(_unknown_contact_points(rule_set, directory)),
    )


def _unknown_contact_points(
    rule_set: RuleSet, directory: DirectoryView
) -> Iterator[Problem]:
    """Contact points the rules name that this directory does not know.

    Loading checks this against the directory of the day; a rule set checked
    against another directory (a new export, say) may still miss some.
    """
    network = rule_set.no_rule_applies.source
    named = [(network, None, "coordinators", rule_set.coordinators)]
    for source, target in rule_set.fallbacks.items():
        named += [
            (network, None, f"fallbacks.{source}", source),
            (network, None, f"fallbacks.{source}", target),
        ]
    for rule in rule_set.rules:
        if rule.contact_point is not None:
            named.append((rule.source, rule.id, "contact_point", rule.contact_point))
    for jurisdiction in rule_set.jurisdictions.values():
        for role, contact_point_id in jurisdiction.contact_points.items():
            named.append(
                (jurisdiction.source, None, f"contact_points.{role}", contact_point_id)
            )
        if jurisdiction.fallback is not None:
            named.append((jurisdiction.source, None, "fallback", jurisdiction.fallback))
        if jurisdiction.embargo is not None:
            refer_instead = jurisdiction.embargo.refer_instead
            named.append(
                (jurisdiction.source, None, "embargo.refer_instead", refer_instead)
            )

    for source, rule_id, field_path, contact_point_id in named:
        if directory.get(contact_point_id) is None:
            message = f"unknown contact point '{contact_point_id}'"
            yield Problem(source, message, rule_id, field_path)


def _state(directory: DirectoryView, contact_point_id: str) -> str:
    view = directory.get(contact_point_id)
    if view is None:
        return f"contact point {contact_point_id} is not in the directory"

    return f"contact point {contact_point_id} is suspended"
