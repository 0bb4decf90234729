"""Synthetic reports for tests: invented, and saying so."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

SYNTHETIC = "SYNTHETIC TEST REPORT - no real person or event."


def a_report(reference: str = "TEST-0001", **overrides) -> dict:
    """A valid protocol v1 report about an incident in Thailand."""
    report = {
        "reference": reference,
        "received_at": datetime(2026, 11, 30, 13, 5, tzinfo=UTC).isoformat(),
        "category": "travel_tourism_offence",
        "immediate_danger": False,
        "incident": {
            "country": "TH",
            "place": "Synthetic town",
            "occurred_on": "2026-11-20",
        },
        "suspects": [
            {
                "nationalities": ["AT"],
                "residence_country": "AT",
                "description": "Synthetic suspect.",
            }
        ],
        "victims": [{"age_band": "12-15", "country": "TH"}],
        "online": {
            "urls": ["https://example.org/synthetic"],
            "hosting_countries": ["NL"],
        },
        "narrative": SYNTHETIC,
        "reporter": {"consents_to_contact": False, "language": "de"},
    }
    report.update(copy.deepcopy(overrides))

    return report


def a_single_referral_report(reference: str = "TEST-0001") -> dict:
    """A report the demo rules send to the Thai police alone, as lead."""
    return {
        "reference": reference,
        "received_at": datetime(2026, 11, 30, 13, 5, tzinfo=UTC).isoformat(),
        "category": "other",
        "immediate_danger": False,
        "incident": {"country": "TH"},
        "narrative": SYNTHETIC,
    }
