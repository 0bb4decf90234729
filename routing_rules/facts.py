"""The facts of one report that routing rules can look at."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REPORT_FIELDS = (
    "reference",
    "received_at",
    "category",
    "immediate_danger",
    "incident",
    "suspects",
    "victims",
    "online",
    "narrative",
    "reporter",
)


def _country(code: Any) -> str | None:
    return str(code).upper() if code else None


def _countries(codes: Iterable[Any]) -> tuple[str, ...]:
    """Upper-case, de-duplicate and sort, so routing never depends on order."""
    return tuple(sorted({str(code).upper() for code in codes if code}))


@dataclass(frozen=True, slots=True)
class Facts:
    """What routing knows about a report; countries are sorted ISO alpha-2 codes."""

    category: str
    immediate_danger: bool = False
    incident_country: str | None = None
    suspect_nationalities: tuple[str, ...] = ()
    suspect_residence_countries: tuple[str, ...] = ()
    victim_countries: tuple[str, ...] = ()
    victim_age_bands: tuple[str, ...] = ()
    hosting_countries: tuple[str, ...] = ()
    hotline_country: str | None = None
    consents_to_contact: bool = False

    @classmethod
    def from_report(
        cls, report: Mapping[str, Any], hotline_country: str | None
    ) -> Facts:
        """Extract the facts from a report loaded by the contract schema."""
        suspects = report.get("suspects") or ()
        victims = report.get("victims") or ()
        incident = report.get("incident") or {}
        online = report.get("online") or {}
        reporter = report.get("reporter") or {}

        return cls(
            category=report["category"],
            immediate_danger=bool(report.get("immediate_danger", False)),
            incident_country=_country(incident.get("country")),
            suspect_nationalities=_countries(
                code
                for suspect in suspects
                for code in suspect.get("nationalities") or ()
            ),
            suspect_residence_countries=_countries(
                suspect.get("residence_country") for suspect in suspects
            ),
            victim_countries=_countries(victim.get("country") for victim in victims),
            victim_age_bands=tuple(
                sorted(
                    {victim["age_band"] for victim in victims if victim.get("age_band")}
                )
            ),
            hosting_countries=_countries(online.get("hosting_countries") or ()),
            hotline_country=_country(hotline_country),
            consents_to_contact=bool(reporter.get("consents_to_contact", False)),
        )

    @property
    def suspect_countries(self) -> tuple[str, ...]:
        """Countries of which a suspect is a national or a resident."""
        return _countries(self.suspect_nationalities + self.suspect_residence_countries)

    def as_dict(self) -> dict[str, Any]:
        """The facts as a JSON-ready dict."""
        return {
            "category": self.category,
            "immediate_danger": self.immediate_danger,
            "incident_country": self.incident_country,
            "suspect_nationalities": list(self.suspect_nationalities),
            "suspect_residence_countries": list(self.suspect_residence_countries),
            "victim_countries": list(self.victim_countries),
            "victim_age_bands": list(self.victim_age_bands),
            "hosting_countries": list(self.hosting_countries),
            "hotline_country": self.hotline_country,
            "consents_to_contact": self.consents_to_contact,
        }
