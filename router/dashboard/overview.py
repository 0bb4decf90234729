"""The acknowledgement dashboard: per contact point, country and hotline, the
referrals of a period, the share acknowledged within 48 hours, median and
90th percentile time to acknowledge, and what is overdue now; with the
distribution and the weekly trend of the times to acknowledge.

The referrals of the period are read once. On PostgreSQL one statement counts
them per contact point, hotline and week, with their times to acknowledge as
arrays, and Python adds the groups up into the three tables and sorts each
group's times once for its exact percentiles; on SQLite (small by nature)
Python counts row by row.

Periods of up to `EXACT_WINDOW` are read that way. Wider ones read the daily
roll-up (`router.rollup`) for their whole days whose every deadline has
passed, and the referrals only for the part-day they start with and their
last days (yesterday, today, and any day with a referral still inside its
deadline), so that a year costs little more than a month. Their counts and
histogram are the same as from the referrals alone; their percentiles are
interpolated within the roll-up's buckets (an hour wide up to 48 hours).
What is overdue now is always counted from the referrals.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise

from sqlalchemy import (
    Connection,
    DateTime,
    Interval,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql

from router.dashboard.queries import ack_seconds, percentile, plain, week_of
from router.lifecycle import AWAITING_ACKNOWLEDGEMENT
from router.persistence.tables import (
    ROLLUP_BUCKET_HOURS,
    ROLLUP_BUCKETS,
    acknowledgement_days,
    cases,
    contact_points,
    hotlines,
    referrals,
)
from router.rollup import bucket_percentile, midnight

# How long before a period the dashboard expects the cases of its referrals
# to have been received; older ones are still found, only more slowly.
RECENT_CASES = timedelta(days=14)
# Upper bounds in hours of the distribution chart's bars; the last is open.
# Each is also a bound of the roll-up's buckets, so the bars stay exact.
HISTOGRAM_HOURS = (6, 12, 24, 36, 48, 72)
# The widest period read from the referrals alone, with exact percentiles.
EXACT_WINDOW = timedelta(days=31)
ROLLUP_BOUNDS_SECONDS = [hours * 3600 for hours in ROLLUP_BUCKET_HOURS]
GROUPINGS = ("contact_point", "country", "hotline")


@dataclass
class AcknowledgementRow:
    """One line of the acknowledgement dashboard."""

    key: str | None
    label: str
    referrals: int = 0
    acknowledged: int = 0
    decided: int = 0
    within_target: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None
    overdue_now: int = 0

    @property
    def share_within_target(self) -> float | None:
        """Acknowledged within target, of the referrals whose time ran out or
        that were acknowledged; referrals still inside their 48 hours wait."""
        return self.within_target / self.decided if self.decided else None


@dataclass
class Period:
    """From `start` up to and including `end` (now, on the dashboard)."""

    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, now: datetime, days: int) -> Period:
        return cls(now - timedelta(days=days), now)


@dataclass
class WeekPoint:
    week: date
    referrals: int = 0
    within_target: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None


@dataclass
class Overview:
    """Everything the acknowledgement dashboard shows."""

    tables: dict[str, list[AcknowledgementRow]]
    histogram: list[tuple[str, int]]
    trend: list[WeekPoint]
    # Whether the percentiles were estimated from the roll-up's buckets.
    estimated_percentiles: bool = False


def overview(
    connection: Connection,
    period: Period,
    now: datetime,
    *,
    from_rollup: bool | None = None,
) -> Overview:
    """The dashboard's figures over the referrals routed in `period`, with
    what is overdue now (whenever it was routed).

    Periods longer than `EXACT_WINDOW` are read from the daily roll-up, unless
    `from_rollup` says otherwise: the same counts, percentiles to the hour.
    """
    countries = dict(
        connection.execute(select(contact_points.c.id, contact_points.c.country)).all()
    )
    if from_rollup is None:
        from_rollup = period.end - period.start > EXACT_WINDOW
    estimated = False
    if from_rollup:
        groups, estimated = _figures_with_rollup(connection, period, now, countries)
    else:
        groups, values = _live_figures(connection, period, now, countries)
        _add_percentiles(groups, values)
    _count_overdue(connection, now, countries, groups)
    buckets = groups["bucket"]
    histogram = [
        (label, buckets[index][ACKNOWLEDGED] if index in buckets else 0)
        for index, label in enumerate(_histogram_labels())
    ]

    return Overview(
        tables={
            grouping: _rows(connection, grouping, groups[grouping])
            for grouping in GROUPINGS
        },
        histogram=histogram,
        trend=[
            WeekPoint(
                week,
                groups["week"][week][TOTAL],
                groups["week"][week][WITHIN],
                groups["week"][week][MEDIAN],
                groups["week"][week][P90],
            )
            for week in sorted(groups["week"])
        ],
        estimated_percentiles=estimated,
    )


# The figures kept per group, in this order.
TOTAL, DECIDED, WITHIN, ACKNOWLEDGED, MEDIAN, P90, OVERDUE = range(7)


def _new_figures() -> list:
    return [0, 0, 0, 0, None, None, 0]


def _period_columns(dialect: str, period: Period, now: datetime):
    seconds = ack_seconds(dialect)
    bucket = case(
        *(
            (seconds < hours * 3600, literal_column(str(index)))
            for index, hours in enumerate(HISTOGRAM_HOURS)
        ),
        else_=literal_column(str(len(HISTOGRAM_HOURS))),
    )
    decided = referrals.c.acknowledged_at.is_not(None) | (referrals.c.ack_due_at < now)
    in_period = (
        referrals.c.routed_at >= period.start,
        referrals.c.routed_at <= period.end,
    )

    return seconds, bucket, decided, in_period


@lru_cache(maxsize=1)
def _overview_sql() -> tuple[str, dict]:
    """The dashboard's main PostgreSQL statement, compiled once.

    Counted per contact point, hotline and week, with the times to
    acknowledge as arrays; Python adds the groups up and sorts each group's
    times once for its percentiles.
    """
    seconds = ack_seconds("postgresql")
    # A referral's hotline is its case's. Cases received shortly before the
    # period are hashed from an index range; the rare older case (a late
    # re-route, a report filed long after receipt) is looked up one by one.
    recent = (
        select(cases.c.id, cases.c.hotline_id)
        .where(cases.c.received_at >= bindparam("recent_from"))
        .subquery("recent")
    )
    older = (
        select(cases.c.hotline_id)
        .where(cases.c.id == referrals.c.case_id)
        .scalar_subquery()
    )
    decided = referrals.c.acknowledged_at.is_not(None) | (
        referrals.c.ack_due_at < bindparam("now")
    )
    per_referral = (
        select(
            referrals.c.contact_point_id,
            func.coalesce(recent.c.hotline_id, older).label("hotline_id"),
            week_of("postgresql", referrals.c.routed_at).label("week"),
            decided.label("decided"),
            referrals.c.acknowledged_within_target.label("within"),
            seconds.label("seconds"),
            referrals.c.routed_at,
            referrals.c.acknowledged_at,
        )
        .select_from(referrals.outerjoin(recent, recent.c.id == referrals.c.case_id))
        .where(
            referrals.c.routed_at >= bindparam("start"),
            referrals.c.routed_at <= bindparam("end"),
        )
        .subquery("per_referral")
    )
    acknowledged_at = per_referral.c.acknowledged_at
    # Cumulative: acknowledged within each bound of the distribution chart.
    # Timestamps, not seconds: PostgreSQL computes a column of the inner query
    # once for every use of it, and the seconds cost a numeric division.
    within_bounds = [
        func.count().filter(
            acknowledged_at
            < per_referral.c.routed_at + literal(timedelta(hours=hours), Interval)
        )
        for hours in HISTOGRAM_HOURS
    ]
    keys = (
        per_referral.c.contact_point_id,
        per_referral.c.hotline_id,
        per_referral.c.week,
    )
    statement = select(
        *keys,
        func.count(),
        func.count(case((per_referral.c.decided, 1))),
        func.count(case((per_referral.c.within, 1))),
        func.array_agg(per_referral.c.seconds).filter(acknowledged_at.is_not(None)),
        *within_bounds,
    ).group_by(*keys)
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())

    return str(compiled), dict(compiled.params)


def _figures_in_sql(connection, period: Period, now: datetime, countries) -> tuple:
    sql, params = _overview_sql()
    params = params | {
        "start": period.start,
        "end": period.end,
        "now": now,
        "recent_from": period.start - RECENT_CASES,
    }
    width = 3
    names = (*GROUPINGS, "week")
    groups: dict = {name: {} for name in (*names, "bucket")}
    values: dict = defaultdict(list)
    buckets = groups["bucket"]
    # The planner guesses thousands of times too many groups (it cannot see
    # that weeks are few), so it would sort, or hash in batches on disk, and
    # compile the query to machine code; the real groups fit in memory and
    # hashing them is faster than any of that.
    with planner_settings(connection, enable_sort="off", jit="off", work_mem="32MB"):
        rows = fetch_binary(connection, sql, params)
    tables = [groups[name] for name in names]
    for row in rows:
        point, hotline, week_start = row[:width]
        total, decided_count, within, taken = row[width : width + 4]
        taken = taken or ()
        acknowledged_count = len(taken)
        group_keys = (point, countries.get(point), hotline, week_start)
        for name, table, key in zip(names, tables, group_keys, strict=True):
            figures = table.get(key)
            if figures is None:
                figures = table[key] = _new_figures()
            figures[TOTAL] += total
            figures[DECIDED] += decided_count
            figures[WITHIN] += within
            figures[ACKNOWLEDGED] += acknowledged_count
            values[name, key].extend(taken)
        below = 0
        for index, cumulative in enumerate([*row[width + 4 :], acknowledged_count]):
            bar = buckets.setdefault(index, _new_figures())
            bar[ACKNOWLEDGED] += cumulative - below
            below = cumulative

    return groups, values


def fetch_binary(connection: Connection, sql: str, params: dict) -> list[tuple]:
    """Every row of compiled PostgreSQL, read in psycopg's binary format.

    The dashboard reads tens of thousands of times as float arrays; parsed
    from text they cost more than the query itself.
    """
    raw = connection.connection.driver_connection
    with raw.cursor(binary=True) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def planner_settings(connection: Connection, **settings: str):
    """PostgreSQL planner settings for the statements run inside, then reset."""
    for name, value in settings.items():
        connection.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
    try:
        yield
    finally:
        for name in settings:
            connection.exec_driver_sql(f"RESET {name}")


def _add_percentiles(groups: dict, values: dict) -> None:
    for (name, key), taken in values.items():
        taken.sort()
        figures = groups[name][key]
        figures[MEDIAN], figures[P90] = percentile(taken, 0.5), percentile(taken, 0.9)


def _figures_in_python(connection, period, now, countries: dict) -> tuple:
    dialect = connection.dialect.name
    seconds, bucket, decided, in_period = _period_columns(dialect, period, now)
    statement = (
        select(
            referrals.c.contact_point_id,
            cases.c.hotline_id,
            week_of(dialect, referrals.c.routed_at),
            case((referrals.c.acknowledged_at.is_not(None), bucket)),
            decided,
            referrals.c.acknowledged_within_target,
            seconds,
        )
        .join(cases, cases.c.id == referrals.c.case_id)
        .where(*in_period)
    )
    groups: dict = {name: {} for name in (*GROUPINGS, "week", "bucket")}
    values: dict = defaultdict(list)
    for (
        point,
        hotline,
        week,
        bucket_index,
        is_decided,
        within,
        taken,
    ) in connection.execute(statement):
        keys = {
            "contact_point": point,
            "country": countries.get(point),
            "hotline": hotline,
            "week": plain(week),
            "bucket": bucket_index,
        }
        for name, key in keys.items():
            if key is None and name == "bucket":
                continue
            figures = groups[name].setdefault(key, _new_figures())
            figures[TOTAL] += 1
            figures[DECIDED] += bool(is_decided)
            figures[WITHIN] += bool(within)
            if taken is not None:
                figures[ACKNOWLEDGED] += 1
                values[name, key].append(taken)

    return groups, values


def _live_figures(connection, period: Period, now: datetime, countries) -> tuple:
    """Figures and the times to acknowledge of each group, from the referrals."""
    if connection.dialect.name == "postgresql":
        return _figures_in_sql(connection, period, now, countries)

    return _figures_in_python(connection, period, now, countries)


def _figures_with_rollup(connection, period: Period, now: datetime, countries):
    """The roll-up for the whole days it holds final figures of; the referrals
    for the rest: the part-day at the start of the period and the last days,
    whose referrals may still be acknowledged in time. With whether the
    percentiles are estimates (they are not if no whole day could be used)."""
    start = period.start.astimezone(UTC)
    first_day = start.date()
    if start != midnight(first_day):
        first_day += timedelta(days=1)
    live_from = _live_from(connection, first_day, now)
    if live_from <= first_day:
        groups, values = _live_figures(connection, period, now, countries)
        _add_percentiles(groups, values)
        return groups, False

    # The roll-up starts at midnight; the part-day before it ends just short.
    head = Period(start, midnight(first_day) - timedelta(microseconds=1))
    tail = Period(midnight(live_from), period.end)
    groups: dict = {name: {} for name in (*GROUPINGS, "week", "bucket")}
    buckets: dict = defaultdict(lambda: [0] * len(ROLLUP_BUCKETS))
    for part in (head, tail):
        if part.start > part.end:
            continue
        part_groups, values = _live_figures(connection, part, now, countries)
        for name, table in part_groups.items():
            for key, figures in table.items():
                total = groups[name].setdefault(key, _new_figures())
                for index in (TOTAL, DECIDED, WITHIN, ACKNOWLEDGED):
                    total[index] += figures[index]
        for group, taken in values.items():
            counts = buckets[group]
            for seconds in taken:
                counts[bisect_right(ROLLUP_BOUNDS_SECONDS, seconds)] += 1
    _add_rollup(connection, first_day, live_from, countries, groups, buckets)
    for (name, key), counts in buckets.items():
        figures = groups[name][key]
        figures[MEDIAN] = bucket_percentile(counts, 0.5)
        figures[P90] = bucket_percentile(counts, 0.9)

    return groups, True


def _live_from(connection, first_day: date, now: datetime) -> date:
    """The first day to read from the referrals: yesterday, or an earlier day
    with a referral still inside its deadline (not final in the roll-up)."""
    yesterday = now.astimezone(UTC).date() - timedelta(days=1)
    open_days = connection.execute(
        _OPEN_DAYS, {"first": first_day, "before": yesterday, "now": now}
    ).scalars()

    return min((plain(day) for day in open_days), default=yesterday)


# The days, not their minimum: the few open days are found through the index
# on their deadlines, where a MIN() leads the planner to walk every day.
_OPEN_DAYS = (
    select(acknowledgement_days.c.day)
    .where(
        acknowledgement_days.c.day >= bindparam("first"),
        acknowledgement_days.c.day < bindparam("before"),
        acknowledgement_days.c.latest_open_due_at >= bindparam("now"),
    )
    .distinct()
)


_COUNTED = ("referrals", "acknowledged", "within_target", *ROLLUP_BUCKETS)
_IN_ROLLUP_DAYS = (
    acknowledgement_days.c.day >= bindparam("first"),
    acknowledgement_days.c.day < bindparam("until"),
)
_ROLLUP_PER_PARTY = (
    select(
        acknowledgement_days.c.dimension,
        acknowledgement_days.c.party_id,
        *(func.sum(acknowledgement_days.c[name]) for name in _COUNTED),
    )
    .where(*_IN_ROLLUP_DAYS)
    .group_by(acknowledgement_days.c.dimension, acknowledgement_days.c.party_id)
)


@lru_cache(maxsize=2)
def _rollup_per_week(dialect: str):
    day = acknowledgement_days.c.day
    if dialect == "postgresql":
        week = func.date(func.date_trunc(literal_column("'week'"), cast(day, DateTime)))
    else:
        week = func.date(
            day, literal_column("'weekday 0'"), literal_column("'-6 days'")
        )

    # Every referral has one contact point: their rows count each once.
    return (
        select(week, *(func.sum(acknowledgement_days.c[name]) for name in _COUNTED))
        .where(*_IN_ROLLUP_DAYS, acknowledgement_days.c.dimension == "contact_point")
        .group_by(week)
    )


def _add_rollup(connection, first_day, until, countries, groups, buckets) -> None:
    """Add the roll-up's days from `first_day` up to `until` to the groups."""
    days = {"first": first_day, "until": until}
    histogram = [0] * len(ROLLUP_BUCKETS)
    for dimension, party, *figures in connection.execute(_ROLLUP_PER_PARTY, days):
        if dimension == "contact_point":
            keys = (("contact_point", party), ("country", countries.get(party)))
            histogram = _add_counts(histogram, figures[3:])
        else:
            keys = (("hotline", party),)
        for name, key in keys:
            _add_days(groups, buckets, name, key, figures)
    per_week = _rollup_per_week(connection.dialect.name)
    for week, *figures in connection.execute(per_week, days):
        _add_days(groups, buckets, "week", plain(week), figures)
    bars = groups["bucket"]
    for index, count in enumerate(histogram):
        bar = bisect_right(HISTOGRAM_HOURS, ([0, *ROLLUP_BUCKET_HOURS])[index])
        bars.setdefault(bar, _new_figures())[ACKNOWLEDGED] += count


def _add_days(groups, buckets, name: str, key, counted: list) -> None:
    """Add one group's sums over whole days of the roll-up; every deadline of
    those days has passed, so all their referrals count as decided."""
    total, acknowledged, within = counted[:3]
    figures = groups[name].setdefault(key, _new_figures())
    figures[TOTAL] += total
    figures[DECIDED] += total
    figures[WITHIN] += within
    figures[ACKNOWLEDGED] += acknowledged
    buckets[name, key] = _add_counts(buckets[name, key], counted[3:])


def _add_counts(counts: list[int], more) -> list[int]:
    return [a + b for a, b in zip(counts, more, strict=True)]


def _count_overdue(connection, now: datetime, countries: dict, groups) -> None:
    statement = (
        select(referrals.c.contact_point_id, cases.c.hotline_id, func.count())
        .join(cases, cases.c.id == referrals.c.case_id)
        .where(
            referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT),
            referrals.c.ack_due_at < now,
        )
        .group_by(referrals.c.contact_point_id, cases.c.hotline_id)
    )
    for point, hotline, count in connection.execute(statement):
        keys = (point, countries.get(point), hotline)
        for grouping, key in zip(GROUPINGS, keys, strict=True):
            groups[grouping].setdefault(key, _new_figures())[OVERDUE] += count


def _rows(connection, grouping: str, figures_by_key: dict) -> list[AcknowledgementRow]:
    labels = _labels(connection, grouping)
    rows = [
        AcknowledgementRow(
            key=key,
            label=labels.get(key, key or "—"),
            referrals=figures[TOTAL],
            acknowledged=figures[ACKNOWLEDGED],
            decided=figures[DECIDED],
            within_target=figures[WITHIN],
            median_seconds=figures[MEDIAN],
            p90_seconds=figures[P90],
            overdue_now=figures[OVERDUE],
        )
        for key, figures in figures_by_key.items()
    ]

    return sorted(rows, key=lambda row: (-row.overdue_now, str(row.label)))


def _labels(connection: Connection, grouping: str) -> dict:
    if grouping == "contact_point":
        statement = select(contact_points.c.id, contact_points.c.name)
    elif grouping == "hotline":
        statement = select(hotlines.c.id, hotlines.c.name)
    else:
        return {}

    return dict(connection.execute(statement).all())


def _histogram_labels() -> list[str]:
    bounds = [0, *HISTOGRAM_HOURS]
    labels = [f"{low}-{high} h" for low, high in pairwise(bounds)]

    return [*labels, f"≥ {HISTOGRAM_HOURS[-1]} h"]
