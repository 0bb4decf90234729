"""The dashboard's daily roll-up against the referrals it sums, on both
backends."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, timedelta

from sqlalchemy import select

from router.persistence.tables import (
    ROLLUP_BUCKET_HOURS,
    ROLLUP_BUCKETS,
    acknowledgement_days,
    cases,
    referrals,
)
from router.rollup import bucket_percentile, refresh_rollup
from router.sla import SlaClock
from tests.dashboard_helpers import seed_history
from tests.factories import a_single_referral_report


class SilentNotifier:
    def send(self, notice) -> None:
        pass


def rollup_rows(services) -> dict:
    with services.engine.connect() as connection:
        rows = connection.execute(select(acknowledgement_days)).all()

    return {
        (row.day, row.dimension, row.party_id): (
            row.referrals,
            row.acknowledged,
            row.within_target,
            tuple(row._mapping[name] for name in ROLLUP_BUCKETS),
        )
        for row in rows
    }


def expected_rows(services) -> dict:
    """The roll-up's figures, counted one referral at a time in Python."""
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(referrals, cases.c.hotline_id).join(
                cases, cases.c.id == referrals.c.case_id
            )
        ).all()
    counted: dict = defaultdict(lambda: [0, 0, 0, [0] * len(ROLLUP_BUCKETS)])
    for row in rows:
        day = row.routed_at.astimezone(UTC).date()
        for key in (
            (day, "contact_point", row.contact_point_id),
            (day, "hotline", row.hotline_id),
        ):
            figures = counted[key]
            figures[0] += 1
            if row.acknowledged_at is not None:
                figures[1] += 1
                hours = (row.acknowledged_at - row.routed_at).total_seconds() / 3600
                figures[3][bisect_right(ROLLUP_BUCKET_HOURS, hours)] += 1
            figures[2] += bool(row.acknowledged_within_target)

    return {key: (a, b, c, tuple(d)) for key, (a, b, c, d) in counted.items()}


def refresh_all(services, now) -> None:
    refresh_rollup(services.engine, (now - timedelta(days=500)).date(), now.date())


def test_the_rollup_holds_the_figures_of_the_referrals(services, clock):
    """Each day's counts and buckets equal those counted from the referrals."""
    seed_history(services, clock.now())

    refresh_all(services, clock.now())

    assert rollup_rows(services) == expected_rows(services)


def test_a_repeated_refresh_changes_nothing(services, clock):
    """Refreshing the same days twice leaves the same rows."""
    seed_history(services, clock.now(), days=40)
    refresh_all(services, clock.now())
    first = rollup_rows(services)

    refresh_all(services, clock.now())

    assert rollup_rows(services) == first


def test_a_late_acknowledgement_shows_after_the_next_tick(services, caller, clock):
    """An old referral acknowledged today counts as acknowledged on its day."""
    sla = SlaClock(services, SilentNotifier())
    case = caller.file("hl-at-demo", a_single_referral_report()).get_json()
    referral = case["referrals"][0]
    sla.tick()
    clock.advance(days=10)
    caller.acknowledge(referral["contact_point_id"], referral["id"])

    sla.tick()

    rows = rollup_rows(services)
    assert {key[1:] for key in rows} == {
        ("contact_point", referral["contact_point_id"]),
        ("hotline", "hl-at-demo"),
    }
    assert {figures[:3] for figures in rows.values()} == {(1, 1, 0)}


def test_a_bucket_percentile_falls_inside_its_bucket():
    """The median of times counted in the third hour lies in that hour."""
    counts = [0] * len(ROLLUP_BUCKETS)
    counts[2] = 5

    assert 2 * 3600 <= bucket_percentile(counts, 0.5) < 3 * 3600


def test_a_clock_stopped_for_days_catches_up(services, caller, clock):
    """A referral routed after the last tick, before the clock stopped for a
    week, is in its day's roll-up after the next tick."""
    sla = SlaClock(services, SilentNotifier())
    routing_day = clock.now().date()
    caller.file("hl-at-demo", a_single_referral_report("TEST-0001"))
    sla.tick()
    clock.advance(minutes=5)
    caller.file("hl-at-demo", a_single_referral_report("TEST-0002"))
    clock.advance(days=7)

    sla.tick()

    assert rollup_rows(services) == expected_rows(services)
    first_day = {
        dimension: figures[0]
        for (day, dimension, _party), figures in rollup_rows(services).items()
        if day == routing_day
    }
    assert first_day == {"contact_point": 2, "hotline": 2}
