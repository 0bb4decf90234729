"""The annual report counts follow-up outcomes as the contact points reported
them, per hotline and overall, on both backends."""

from __future__ import annotations

import csv
import io

from tests.factories import a_report, a_single_referral_report

# reference: the hotline, and the outcomes its lead reports in turn (None: the
# lead is never acknowledged; an empty tuple: acknowledged, nothing reported).
FOLLOW_UPS = {
    "FU-1": ("hl-at-demo", ("investigation_opened",)),
    "FU-2": ("hl-at-demo", ("investigation_opened", "victim_support_provided")),
    "FU-3": ("hl-de-demo", ("content_removed",)),
    "FU-4": ("hl-de-demo", ("investigation_opened",)),
    "FU-5": ("hl-de-demo", ()),
    "FU-6": ("hl-at-demo", None),
    "FU-7": ("hl-at-demo", ("not_competent",)),
}


def report_follow_ups(caller, clock) -> dict:
    """File each report, take its lead through its follow-ups (the last one
    final); returns the number of referrals per hotline."""
    referral_counts: dict = {}
    for reference, (hotline, outcomes) in FOLLOW_UPS.items():
        report = a_report(reference) if reference == "FU-7" else None
        report = report or a_single_referral_report(reference)
        case = caller.file(hotline, report).get_json()
        referral_counts[hotline] = referral_counts.get(hotline, 0) + len(
            case["referrals"]
        )
        lead = next(r for r in case["referrals"] if r["role"] == "lead")
        clock.advance(hours=1)
        if outcomes is None:
            continue
        acknowledged = caller.acknowledge(lead["contact_point_id"], lead["id"])
        assert acknowledged.status_code == 200
        for number, outcome in enumerate(outcomes, start=1):
            clock.advance(hours=1)
            response = caller.send(
                lead["contact_point_id"],
                "POST",
                f"/v1/referrals/{lead['id']}/follow-up",
                {"outcome": outcome, "final": number == len(outcomes)},
            )
            assert response.status_code == 200, response.get_data(as_text=True)

    return referral_counts


def test_the_report_counts_each_follow_up_outcome(dashboard, caller, clock):
    """The latest outcome of each referral counts once; the rest are
    'none_reported'; per hotline the counts add up to the overall ones."""
    referral_counts = report_follow_ups(caller, clock)
    total = sum(referral_counts.values())
    assert total > len(FOLLOW_UPS)  # FU-7's informed referrals report nothing

    report = dashboard.get("/dashboard/report.json?year=2026").get_json()

    hotlines = {h["id"]: h["follow_up_outcomes"] for h in report["hotlines"]}
    assert list(report["overall"]["follow_up_outcomes"].items()) == [
        ("none_reported", total - 5),
        ("investigation_opened", 2),
        ("content_removed", 1),
        ("not_competent", 1),
        ("victim_support_provided", 1),
    ]
    assert hotlines == {
        "hl-at-demo": {
            "none_reported": referral_counts["hl-at-demo"] - 3,
            "investigation_opened": 1,
            "not_competent": 1,
            "victim_support_provided": 1,
        },
        "hl-de-demo": {
            "none_reported": 1,
            "content_removed": 1,
            "investigation_opened": 1,
        },
    }


def test_the_csv_carries_the_same_outcome_counts(dashboard, caller, clock):
    """Each outcome is one line of the CSV, with the JSON's count."""
    report_follow_ups(caller, clock)

    figures = dashboard.get("/dashboard/report.json?year=2026").get_json()
    text = dashboard.get("/dashboard/report.csv?year=2026").get_data(as_text=True)

    rows = {
        (row["scope"], row["key"]): int(row["value"])
        for row in csv.DictReader(io.StringIO(text))
        if row["section"] == "follow_up_outcomes"
    }
    expected = {
        ("overall", outcome): count
        for outcome, count in figures["overall"]["follow_up_outcomes"].items()
    }
    for hotline in figures["hotlines"]:
        expected |= {
            (hotline["id"], outcome): count
            for outcome, count in hotline["follow_up_outcomes"].items()
        }
    assert rows == expected
    assert rows[("overall", "investigation_opened")] == 2
