"""The router's side of routing: the live rule set over the live directory.

Routing itself is the pure function `routing_rules.decide`; this module only
keeps the rule set loaded and the directory view current for it.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from router.directory import DirectoryCache, Snapshot
from routing_rules import (
    ContactPointView,
    Decision,
    DirectoryView,
    Facts,
    RuleSet,
    decide,
    fallback_after,
    load_rule_set,
)


def directory_view(snapshot: Snapshot) -> DirectoryView:
    return DirectoryView(
        ContactPointView(
            id=point.id,
            kind=point.kind,
            country=point.country,
            suspended=point.suspended,
        )
        for point in snapshot.contact_points.values()
    )


class RoutingService:
    """Decides with the rule set from `rules_dir` over the cached directory."""

    def __init__(self, rules_dir: Path, directory: DirectoryCache) -> None:
        self._rules_dir = rules_dir
        self._directory = directory
        self._lock = threading.Lock()
        self._seen: Snapshot | None = None
        self._view: DirectoryView | None = None
        self._rule_set: RuleSet | None = None

    def current(self) -> tuple[RuleSet, DirectoryView]:
        """The rule set and directory view, rebuilt when the directory changed."""
        snapshot = self._directory.current()
        with self._lock:
            if snapshot is not self._seen:
                view = directory_view(snapshot)
                if self._rule_set is None:
                    self._rule_set = load_rule_set(self._rules_dir, view)
                self._view, self._seen = view, snapshot

            return self._rule_set, self._view

    def fallback_after(
        self, contact_point_id: str, exclude: set[str]
    ) -> tuple[str | None, tuple[str, ...]]:
        """Who takes over from `contact_point_id`, never one in `exclude`."""
        rule_set, view = self.current()

        return fallback_after(rule_set, view, contact_point_id, exclude)

    def escalates_to_fallback(self, role: str) -> bool:
        return role in self.current()[0].escalate_to_fallback

    @property
    def coordinators(self) -> str:
        return self.current()[0].coordinators

    def decide(
        self, report: dict[str, Any], hotline_country: str | None, at: datetime
    ) -> Decision:
        rule_set, view = self.current()

        return decide(Facts.from_report(report, hotline_country), rule_set, view, at)
