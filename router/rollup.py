"""The acknowledgement dashboard's daily roll-up: per routing day (UTC), for
each contact point and, apart, for each hotline, the referrals routed,
acknowledged and acknowledged within target, with their times to acknowledge
counted in buckets.

A day's rows are always recomputed whole from the referrals, never
incremented: `refresh_days` deletes a run of consecutive days and inserts them
again with one INSERT ... SELECT, in the caller's transaction, so a refresh is
idempotent and the roll-up cannot drift from the referrals. Intake writes
nothing here. The SLA clock's tick refreshes every day from the last one the
roll-up holds (or yesterday, if earlier) to today, where new referrals land,
so a clock stopped for days catches up on its next tick; and every day listed
in `stale_acknowledgement_days`. An
acknowledgement lists its referral's routing day there in its own transaction:
it is the only change that moves the figures of a past day (declines,
revocations and escalations touch none of the counted columns, and a re-route
makes a new referral, routed today).

The counts are exact. Percentiles computed from the buckets are not: they
have the buckets' resolution (an hour up to 48 hours, coarser beyond), which
is why the dashboard keeps its short windows on the referrals themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise

from sqlalchemy import (
    Connection,
    Engine,
    Interval,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
)

from router.persistence.tables import (
    ROLLUP_BUCKET_HOURS,
    ROLLUP_BUCKETS,
    acknowledgement_days,
    cases,
    referrals,
    stale_acknowledgement_days,
)

# Any fixed number: it names the lock that keeps two clocks' refreshes of the
# same days from colliding on PostgreSQL (SQLite's writers queue anyway).
_REFRESH_LOCK = 7_305_001
_MARK_STALE = insert(stale_acknowledgement_days)
_TAKE_STALE = delete(stale_acknowledgement_days).returning(
    stale_acknowledgement_days.c.day
)
_LAST_DAY = select(func.max(acknowledgement_days.c.day))
_DELETE_DAYS = delete(acknowledgement_days).where(
    acknowledgement_days.c.day >= bindparam("first"),
    acknowledgement_days.c.day <= bindparam("last"),
)


def day_of(dialect: str, column):
    """The UTC date of a timestamp column, as a SQL expression."""
    if dialect == "postgresql":
        # Literal, not bound: the expression must read the same in GROUP BY.
        return func.date(func.timezone(literal_column("'UTC'"), column))

    return func.date(column)


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _acknowledged_under(dialect: str, hours: int):
    """Whether the referral was acknowledged in less than `hours`."""
    acknowledged_at, routed_at = referrals.c.acknowledged_at, referrals.c.routed_at
    if dialect == "postgresql":
        return acknowledged_at < routed_at + literal(timedelta(hours=hours), Interval)
    seconds = (func.julianday(acknowledged_at) - func.julianday(routed_at)) * 86400.0

    return acknowledged_at.is_not(None) & (seconds < hours * 3600)


@lru_cache(maxsize=2)
def _insert_days(dialect: str):
    """The INSERT ... SELECT of the roll-up rows of the days from `start` up to,
    not including, `end`: per contact point, then per hotline; built once per
    backend."""
    day = day_of(dialect, referrals.c.routed_at)
    acknowledged = func.count(referrals.c.acknowledged_at)
    # Cumulative counts under each bound; each bucket is the difference.
    under = [
        func.count().filter(_acknowledged_under(dialect, hours))
        for hours in ROLLUP_BUCKET_HOURS
    ]
    figures = (
        func.count(),
        acknowledged,
        func.count(case((referrals.c.acknowledged_within_target, 1))),
        func.max(case((referrals.c.acknowledged_at.is_(None), referrals.c.ack_due_at))),
        under[0],
        *(high - low for low, high in pairwise(under)),
        (acknowledged - under[-1]),
    )
    in_days = (
        referrals.c.routed_at >= bindparam("start"),
        referrals.c.routed_at < bindparam("end"),
    )
    per_contact_point = (
        select(day, literal("contact_point"), referrals.c.contact_point_id, *figures)
        .where(*in_days)
        .group_by(day, referrals.c.contact_point_id)
    )
    per_hotline = (
        select(day, literal("hotline"), cases.c.hotline_id, *figures)
        .join(cases, cases.c.id == referrals.c.case_id)
        .where(*in_days)
        .group_by(day, cases.c.hotline_id)
    )
    names = [
        "day",
        "dimension",
        "party_id",
        "referrals",
        "acknowledged",
        "within_target",
        "latest_open_due_at",
        *ROLLUP_BUCKETS,
    ]

    return insert(acknowledgement_days).from_select(
        names, union_all(per_contact_point, per_hotline)
    )


def refresh_days(connection: Connection, days: Iterable[date]) -> None:
    """Recompute the roll-up of `days` from the referrals, one statement for
    each run of consecutive days."""
    _lock(connection)
    statement = _insert_days(connection.dialect.name)
    for first, last in _runs(days):
        connection.execute(_DELETE_DAYS, {"first": first, "last": last})
        connection.execute(
            statement,
            {"start": midnight(first), "end": midnight(last + timedelta(days=1))},
        )


def refresh_rollup(engine: Engine, since_day: date, until_day: date) -> None:
    """Recompute the roll-up from `since_day` to `until_day`, both included,
    in one transaction."""
    days = (since_day + timedelta(days=n) for n in range((until_day - since_day).days))
    with engine.begin() as connection:
        refresh_days(connection, [*days, until_day])


def refresh_due(connection: Connection, today: date) -> int:
    """Recompute the days since the roll-up's last one (yesterday at the
    latest) up to today, and every day marked stale; how many days."""
    _lock(connection)
    stale = {plain_date(day) for (day,) in connection.execute(_TAKE_STALE)}
    last = connection.execute(_LAST_DAY).scalar()
    first = today - timedelta(days=1)
    if last is not None:
        first = min(first, plain_date(last))
    days = stale | {first + timedelta(days=n) for n in range((today - first).days + 1)}
    refresh_days(connection, days)

    return len(days)


def _lock(connection: Connection) -> None:
    """Keep two clocks' refreshes apart on PostgreSQL until the transaction
    ends (SQLite's writers queue anyway)."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(_REFRESH_LOCK)))


def mark_stale(connection: Connection, routed_at: datetime) -> None:
    """Have the next tick recompute the routing day of a changed referral."""
    connection.execute(_MARK_STALE, {"day": routed_at.astimezone(UTC).date()})


def plain_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Runs of consecutive days, as (first, last)."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])

    return [(first, last) for first, last in runs]


def bucket_percentile(counts: list[int], fraction: float) -> float | None:
    """The continuous percentile, in seconds, of times counted in the roll-up's
    buckets: the times of each bucket taken as spread evenly across it, those
    of the open last bucket as its lower bound."""
    total = sum(counts)
    if not total:
        return None
    position = fraction * (total - 1)
    lower = math.floor(position)
    upper = min(lower + 1, total - 1)
    low_value, high_value = _nth_time(counts, lower), _nth_time(counts, upper)

    return low_value + (high_value - low_value) * (position - lower)


def _nth_time(counts: list[int], rank: int) -> float:
    """Where the time of `rank` (from 0, in order) lies in its bucket."""
    bounds = [0, *ROLLUP_BUCKET_HOURS]
    below = 0
    for index, count in enumerate(counts):
        if rank < below + count:
            low = bounds[index]
            if index + 1 == len(bounds):
                return low * 3600.0
            share = (rank - below + 0.5) / count
            return (low + (bounds[index + 1] - low) * share) * 3600.0
        below += count

    return bounds[-1] * 3600.0
