"""What routing needs to know about contact points, and nothing more."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from routing_rules.yamlfile import read_yaml

CONTACT_POINT_KINDS = frozenset({"police", "national_bureau", "ngo", "coordinator"})


@dataclass(frozen=True, slots=True)
class ContactPointView:
    """One destination as the rules see it: its id, kind, country and state."""

    id: str
    kind: str
    country: str | None
    suspended: bool = False


class DirectoryView:
    """The contact points known to the router, looked up by id."""

    def __init__(self, contact_points: Iterable[ContactPointView]):
        self._by_id = {
            contact_point.id: contact_point for contact_point in contact_points
        }

    def get(self, contact_point_id: str) -> ContactPointView | None:
        """Return the contact point with this id, or None when there is none."""
        return self._by_id.get(contact_point_id)

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    @classmethod
    def from_yaml(cls, path: str | Path) -> DirectoryView:
        """Read the `contact_points` section of a directory file.

        Keys that routing does not need (names, channels, addresses, keys, the
        `hotlines` section) are ignored, since the router keeps them.
        """
        document = read_yaml(path) or {}
        contact_points = []
        for number, entry in enumerate(document.get("contact_points") or (), 1):
            if (
                not isinstance(entry, dict)
                or not entry.get("id")
                or not entry.get("kind")
            ):
                raise ValueError(
                    f"{path}: contact point #{number}: needs at least 'id' and 'kind'"
                )
            country = entry.get("country")
            contact_points.append(
                ContactPointView(
                    id=str(entry["id"]),
                    kind=str(entry["kind"]),
                    country=str(country).upper() if country else None,
                    suspended=bool(entry.get("suspended", False)),
                )
            )

        return cls(contact_points)
