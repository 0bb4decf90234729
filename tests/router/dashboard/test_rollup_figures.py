"""The wide windows read from the roll-up show the counts the referrals give."""

from __future__ import annotations

import pytest

from router.dashboard.overview import Period, overview
from router.rollup import refresh_rollup
from tests.dashboard_helpers import seed_history
from tests.router.dashboard.test_pages import cell


def counts(figures) -> dict:
    """Everything countable on the page: the tables, histogram and trend."""
    return {
        "tables": {
            grouping: {
                row.key: (
                    row.referrals,
                    row.acknowledged,
                    row.decided,
                    row.within_target,
                    row.overdue_now,
                )
                for row in rows
            }
            for grouping, rows in figures.tables.items()
        },
        "histogram": figures.histogram,
        "trend": [
            (point.week, point.referrals, point.within_target)
            for point in figures.trend
        ],
    }


def both_ways(services, clock, days: int):
    seed_history(services, clock.now())
    now = clock.now()
    refresh_rollup(services.engine, now.date().replace(year=now.year - 2), now.date())
    period = Period.last_days(now, days)
    with services.engine.connect() as connection:
        from_rollup = overview(connection, period, now, from_rollup=True)
        from_referrals = overview(connection, period, now, from_rollup=False)

    return from_rollup, from_referrals


@pytest.mark.parametrize("days", [90, 365])
def test_a_wide_window_counts_as_the_referrals_do(services, clock, days):
    """The roll-up gives every count the referrals alone give."""
    from_rollup, from_referrals = both_ways(services, clock, days)

    assert counts(from_rollup) == counts(from_referrals)


def test_percentiles_from_the_rollup_are_within_their_bucket(services, clock):
    """Medians and 90th percentiles differ from the exact ones by under a
    bucket's width."""
    from_rollup, from_referrals = both_ways(services, clock, 365)

    for grouping, rows in from_referrals.tables.items():
        approximate = {row.key: row for row in from_rollup.tables[grouping]}
        for row in rows:
            near = approximate[row.key]
            assert near.median_seconds == pytest.approx(row.median_seconds, abs=3600)
            assert near.p90_seconds == pytest.approx(row.p90_seconds, abs=6 * 3600)


def test_the_365_day_page_shows_the_counts_of_the_referrals(dashboard, services, clock):
    """The page of a year counts each contact point's referrals in full."""
    _from_rollup, from_referrals = both_ways(services, clock, 365)
    expected = {
        row.key: row.referrals
        for row in from_referrals.tables["contact_point"]
        if row.referrals
    }

    page = dashboard.get("/dashboard/?days=365").get_data(as_text=True)

    for key, referrals in expected.items():
        assert int(cell(page, key, "referrals")) == referrals


def test_only_the_wide_pages_say_their_percentiles_are_estimated(
    dashboard, services, clock
):
    """The page of a year says its percentiles are estimates; a month's
    percentiles are exact and the page says nothing of the kind."""
    both_ways(services, clock, 365)

    year = dashboard.get("/dashboard/?days=365").get_data(as_text=True)
    month = dashboard.get("/dashboard/?days=30").get_data(as_text=True)

    assert 'id="estimated-percentiles"' in year
    assert 'id="estimated-percentiles"' not in month
