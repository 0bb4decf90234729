"""The annual report's figures, exactly, from a small synthetic set counted by
hand (`ANNUAL_CASES`), in JSON and in CSV, on both backends."""

from __future__ import annotations

import csv
import io

import pytest

from tests.dashboard_helpers import seed_annual_set

POINT_NAMES = {
    "cp-at-police": "Synthetic police contact point for Austria (demo)",
    "cp-de-bureau": "Synthetic national bureau for Germany (demo)",
    "cp-de-ngo": "Synthetic victim support NGO in Germany (demo)",
    "cp-de-police": "Synthetic police contact point for Germany (demo)",
    "cp-nl-ngo": "Synthetic victim support NGO in Netherlands (demo)",
    "cp-nl-police": "Synthetic police contact point for Netherlands (demo)",
    "cp-th-ngo": "Synthetic victim support NGO in Thailand (demo)",
    "cp-th-police": "Synthetic police contact point for Thailand (demo)",
    "cp-th-tourist-police": "Synthetic tourist police unit for Thailand (demo)",
}


def points(*counts: tuple[str, int]) -> list[dict]:
    return [
        {"id": point, "name": POINT_NAMES[point], "referrals": count}
        for point, count in counts
    ]


# hl-at-demo acknowledged after 2, 10, 51, 30 and 4 hours; one support referral
# never, long past its deadline. Within 48 hours: 4 of the 6 decided.
AUSTRIA = {
    "reports_received": 3,
    "reports_by_category": {"travel_tourism_offence": 2, "online_abuse_material": 1},
    "reports_by_country": {"TH": 2, "NL": 1},
    "referrals": 6,
    "referrals_by_role": {"lead": 3, "support": 2, "informed": 1},
    "referrals_by_contact_point": points(
        ("cp-th-police", 2),
        ("cp-at-police", 1),
        ("cp-nl-ngo", 1),
        ("cp-nl-police", 1),
        ("cp-th-ngo", 1),
    ),
    "acknowledgement": {
        "acknowledged": 5,
        "decided": 6,
        "within_target": 4,
        "share_within_target": 0.6667,
        "mean_hours": 19.4,  # 97 / 5
        "median_hours": 10.0,  # of 2, 4, 10, 30, 51
        "p90_hours": 42.6,  # 30 + 0.6 * (51 - 30)
        "max_hours": 51.0,
    },
    "follow_up_outcomes": {"none_reported": 6},
}
# hl-de-demo acknowledged after 20, 40 and 1 hours; one informed referral
# never, past its deadline; one lead not yet, still inside its 48 hours (not
# decided). Within 48 hours: 3 of the 4 decided.
GERMANY = {
    "reports_received": 2,
    "reports_by_category": {"grooming": 1, "travel_tourism_offence": 1},
    "reports_by_country": {"DE": 1, "unknown": 1},
    "referrals": 5,
    "referrals_by_role": {"informed": 2, "lead": 2, "support": 1},
    "referrals_by_contact_point": points(
        ("cp-de-bureau", 1),
        ("cp-de-ngo", 1),
        ("cp-de-police", 1),
        ("cp-th-police", 1),
        ("cp-th-tourist-police", 1),
    ),
    "acknowledgement": {
        "acknowledged": 3,
        "decided": 4,
        "within_target": 3,
        "share_within_target": 0.75,
        "mean_hours": 20.33,  # 61 / 3
        "median_hours": 20.0,  # of 1, 20, 40
        "p90_hours": 36.0,  # 20 + 0.8 * (40 - 20)
        "max_hours": 40.0,
    },
    "follow_up_outcomes": {"none_reported": 5},
}
OVERALL = {
    "reports_received": 5,
    "reports_by_category": {
        "travel_tourism_offence": 3,
        "grooming": 1,
        "online_abuse_material": 1,
    },
    "reports_by_country": {"TH": 2, "DE": 1, "NL": 1, "unknown": 1},
    "referrals": 11,
    "referrals_by_role": {"lead": 5, "informed": 3, "support": 3},
    "referrals_by_contact_point": points(
        ("cp-th-police", 3),
        ("cp-at-police", 1),
        ("cp-de-bureau", 1),
        ("cp-de-ngo", 1),
        ("cp-de-police", 1),
        ("cp-nl-ngo", 1),
        ("cp-nl-police", 1),
        ("cp-th-ngo", 1),
        ("cp-th-tourist-police", 1),
    ),
    "acknowledgement": {
        "acknowledged": 8,
        "decided": 10,
        "within_target": 7,
        "share_within_target": 0.7,
        "mean_hours": 19.75,  # 158 / 8
        "median_hours": 15.0,  # of 1, 2, 4, 10, 20, 30, 40, 51
        "p90_hours": 43.3,  # 40 + 0.3 * (51 - 40)
        "max_hours": 51.0,
    },
    "follow_up_outcomes": {"none_reported": 11},
}
SCOPES = {"overall": OVERALL, "hl-at-demo": AUSTRIA, "hl-de-demo": GERMANY}


@pytest.fixture
def annual_set(services):
    seed_annual_set(services)


def test_the_json_report_overall(dashboard, annual_set):
    """Every overall figure of 2026, and nothing of the cases around it."""
    report = dashboard.get("/dashboard/report.json?year=2026").get_json()

    assert report["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert report["overall"] == OVERALL


def test_the_json_report_per_hotline(dashboard, annual_set):
    """Every figure of each hotline, in the order of their ids."""
    report = dashboard.get("/dashboard/report.json?year=2026").get_json()

    assert [hotline.pop("name") for hotline in report["hotlines"]] == [
        "Synthetic Austrian reporting hotline (demo)",
        "Synthetic German reporting hotline (demo)",
    ]
    assert report["hotlines"] == [
        {"id": "hl-at-demo"} | AUSTRIA,
        {"id": "hl-de-demo"} | GERMANY,
    ]


def test_the_period_bounds_are_whole_days(dashboard, annual_set):
    """A period ending on 31 December 2025 holds only the case received at
    23:59 that day; one starting on 1 January 2027 only the case of midnight."""
    before = dashboard.get(
        "/dashboard/report.json?start=2025-12-01&end=2025-12-31"
    ).get_json()
    after = dashboard.get(
        "/dashboard/report.json?start=2027-01-01&end=2027-01-31"
    ).get_json()

    assert before["overall"]["reports_received"] == 1
    assert before["overall"]["acknowledgement"]["max_hours"] == 100.0
    assert [hotline["id"] for hotline in before["hotlines"]] == ["hl-at-demo"]
    assert after["overall"]["reports_received"] == 1
    assert after["overall"]["acknowledgement"]["median_hours"] == 0.25
    assert [hotline["id"] for hotline in after["hotlines"]] == ["hl-de-demo"]


def csv_figures(text: str) -> dict:
    rows = list(csv.DictReader(io.StringIO(text)))
    figures = {(row["scope"], row["section"], row["key"]): row["value"] for row in rows}
    assert len(figures) == len(rows), "a figure appears twice in the CSV"

    return figures


def expected_csv_figures() -> dict:
    """The hand-counted figures as the CSV should carry them."""
    expected = {}
    for scope, section in SCOPES.items():
        for name in ("reports_received", "referrals"):
            expected[(scope, name, "")] = section[name]
        for name in (
            "reports_by_category",
            "reports_by_country",
            "referrals_by_role",
            "follow_up_outcomes",
            "acknowledgement",
        ):
            for key, value in section[name].items():
                expected[(scope, name, key)] = value
        for point in section["referrals_by_contact_point"]:
            expected[(scope, "referrals_by_contact_point", point["id"])] = point[
                "referrals"
            ]

    return expected


def test_the_csv_carries_every_figure_of_the_json(dashboard, annual_set):
    """The CSV holds the same numbers as the JSON, and no other."""
    response = dashboard.get("/dashboard/report.csv?year=2026")

    figures = csv_figures(response.get_data(as_text=True))
    expected = expected_csv_figures()
    assert set(figures) == set(expected)
    assert {key: float(value) for key, value in figures.items()} == {
        key: float(value) for key, value in expected.items()
    }
    assert figures[("overall", "acknowledgement", "share_within_target")] == "0.7"
    assert figures[("hl-de-demo", "acknowledgement", "mean_hours")] == "20.33"
    assert figures[("hl-at-demo", "acknowledgement", "p90_hours")] == "42.6"


def test_an_empty_period_leaves_the_times_blank_in_the_csv(dashboard, annual_set):
    """With nothing acknowledged, the CSV's times are empty, not zero."""
    text = dashboard.get(
        "/dashboard/report.csv?start=2024-01-01&end=2024-12-31"
    ).get_data(as_text=True)

    figures = csv_figures(text)
    assert figures[("overall", "reports_received", "")] == "0"
    for key in ("share_within_target", "mean_hours", "median_hours", "max_hours"):
        assert figures[("overall", "acknowledgement", key)] == ""
