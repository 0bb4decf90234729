"""The figures behind the coordinators' pages, read straight from the database.

Nothing here knows Flask. Counts are SQL aggregates on both backends;
percentiles are `percentile_cont` on PostgreSQL and the same interpolation in
Python on SQLite, which has no ordered-set aggregates. Case content is never
selected by any query of this module.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import Connection, case, func, literal, select

from router.lifecycle import AWAITING_ACKNOWLEDGEMENT
from router.persistence.tables import (
    audit_entries,
    cases,
    contact_points,
    hotlines,
    referrals,
)

# Upper bounds in hours of the distribution chart's bars; the last is open.
HISTOGRAM_HOURS = (6, 12, 24, 36, 48, 72)
OVERDUE_SHOWN = 200
GROUPINGS = ("contact_point", "country", "hotline")


def percentile(ordered: list[float], fraction: float) -> float | None:
    """The continuous percentile of sorted values, as PostgreSQL computes it."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)

    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def ack_seconds(dialect: str):
    """Seconds from routing to acknowledgement, as a SQL expression."""
    if dialect == "postgresql":
        return func.extract(
            "epoch", referrals.c.acknowledged_at - referrals.c.routed_at
        )

    return (
        func.julianday(referrals.c.acknowledged_at)
        - func.julianday(referrals.c.routed_at)
    ) * 86400.0


def week_of(dialect: str, column):
    """The Monday of `column`'s week (UTC), as a SQL expression."""
    if dialect == "postgresql":
        return func.date(func.date_trunc("week", func.timezone("UTC", column)))

    return func.date(column, "weekday 0", "-6 days")


def grouped_percentiles(
    connection: Connection, key, *where, joins: Iterable = ()
) -> dict:
    """Median and 90th percentile of time to acknowledge, in seconds, per key
    (under the key None for all rows when `key` is None)."""
    dialect = connection.dialect.name
    seconds = ack_seconds(dialect)
    source = referrals
    for table, on in joins:
        source = source.join(table, on)
    conditions = (*where, referrals.c.acknowledged_at.is_not(None))
    keyed = () if key is None else (key,)
    if dialect == "postgresql":
        statement = (
            select(
                *keyed,
                func.percentile_cont(0.5).within_group(seconds),
                func.percentile_cont(0.9).within_group(seconds),
            )
            .select_from(source)
            .where(*conditions)
            .group_by(*keyed)
        )
        return {
            (_plain(row[0]) if keyed else None): tuple(row[-2:])
            for row in connection.execute(statement)
            if row[-1] is not None
        }

    statement = (
        select(*keyed, seconds.label("seconds"))
        .select_from(source)
        .where(*conditions)
        .order_by(*keyed, seconds)
    )
    values: dict = defaultdict(list)
    for row in connection.execute(statement):
        values[_plain(row[0]) if keyed else None].append(row[-1])

    return {
        group: (percentile(ordered, 0.5), percentile(ordered, 0.9))
        for group, ordered in values.items()
    }


def _plain(value):
    """Group keys as Python values: dates from either backend as `date`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)

    return value


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
    start: datetime
    end: datetime

    @classmethod
    def last_days(cls, now: datetime, days: int) -> Period:
        return cls(now - timedelta(days=days), now)


def _group_key(grouping: str):
    """The key column and the joins each grouping needs."""
    if grouping == "contact_point":
        return referrals.c.contact_point_id, ()
    if grouping == "country":
        return contact_points.c.country, (
            (contact_points, contact_points.c.id == referrals.c.contact_point_id),
        )
    if grouping == "hotline":
        return cases.c.hotline_id, ((cases, cases.c.id == referrals.c.case_id),)
    raise ValueError(f"unknown grouping {grouping}")


def acknowledgement_table(
    connection: Connection, grouping: str, period: Period, now: datetime
) -> list[AcknowledgementRow]:
    """The dashboard's lines for one grouping, over referrals routed in
    `period`, with what is overdue now (whenever it was routed)."""
    key, joins = _group_key(grouping)
    source = referrals
    for table, on in joins:
        source = source.join(table, on)
    in_period = (
        referrals.c.routed_at >= period.start,
        referrals.c.routed_at < period.end,
    )
    decided = case(
        (
            referrals.c.acknowledged_at.is_not(None) | (referrals.c.ack_due_at < now),
            1,
        ),
        else_=0,
    )
    counts = (
        select(
            key,
            func.count(),
            func.count(referrals.c.acknowledged_at),
            func.sum(decided),
            func.sum(case((referrals.c.acknowledged_within_target, 1), else_=0)),
        )
        .select_from(source)
        .where(*in_period)
        .group_by(key)
    )
    overdue = (
        select(key, func.count())
        .select_from(source)
        .where(
            referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT),
            referrals.c.ack_due_at < now,
        )
        .group_by(key)
    )
    labels = _labels(connection, grouping)
    rows: dict = {}

    def row_for(group) -> AcknowledgementRow:
        if group not in rows:
            rows[group] = AcknowledgementRow(group, labels.get(group, group or "—"))
        return rows[group]

    for group, total, acknowledged, decided_count, within in connection.execute(counts):
        row = row_for(group)
        row.referrals, row.acknowledged = total, acknowledged
        row.decided, row.within_target = decided_count or 0, within or 0
    for group, (median, p90) in grouped_percentiles(
        connection, key, *in_period, joins=joins
    ).items():
        row = row_for(group)
        row.median_seconds, row.p90_seconds = median, p90
    for group, count in connection.execute(overdue):
        row_for(group).overdue_now = count

    return sorted(rows.values(), key=lambda row: (-row.overdue_now, str(row.label)))


def _labels(connection: Connection, grouping: str) -> dict:
    if grouping == "contact_point":
        statement = select(contact_points.c.id, contact_points.c.name)
    elif grouping == "hotline":
        statement = select(hotlines.c.id, hotlines.c.name)
    else:
        return {}

    return dict(connection.execute(statement).all())


def histogram(connection: Connection, period: Period) -> list[tuple[str, int]]:
    """How many acknowledgements took how long, in bars of hours."""
    seconds = ack_seconds(connection.dialect.name)
    bounds = [0, *HISTOGRAM_HOURS]
    bucket = case(
        *(
            (seconds < hours * 3600, literal(index))
            for index, hours in enumerate(HISTOGRAM_HOURS)
        ),
        else_=literal(len(HISTOGRAM_HOURS)),
    )
    statement = (
        select(bucket, func.count())
        .where(
            referrals.c.routed_at >= period.start,
            referrals.c.routed_at < period.end,
            referrals.c.acknowledged_at.is_not(None),
        )
        .group_by(bucket)
    )
    counts = dict(connection.execute(statement).all())
    labels = [f"{low}-{high} h" for low, high in pairwise(bounds)]
    labels.append(f"≥ {HISTOGRAM_HOURS[-1]} h")

    return [(label, counts.get(index, 0)) for index, label in enumerate(labels)]


@dataclass
class WeekPoint:
    week: date
    referrals: int
    within_target: int
    median_seconds: float | None = None
    p90_seconds: float | None = None


def weekly_trend(connection: Connection, period: Period) -> list[WeekPoint]:
    """Per week of routing: referrals, met targets and time to acknowledge."""
    week = week_of(connection.dialect.name, referrals.c.routed_at)
    in_period = (
        referrals.c.routed_at >= period.start,
        referrals.c.routed_at < period.end,
    )
    statement = (
        select(
            week,
            func.count(),
            func.sum(case((referrals.c.acknowledged_within_target, 1), else_=0)),
        )
        .where(*in_period)
        .group_by(week)
    )
    points = {
        _plain(row[0]): WeekPoint(_plain(row[0]), row[1], row[2] or 0)
        for row in connection.execute(statement)
    }
    for monday, (median, p90) in grouped_percentiles(
        connection, week, *in_period
    ).items():
        points[monday].median_seconds, points[monday].p90_seconds = median, p90

    return [points[monday] for monday in sorted(points)]


@dataclass
class OverdueReferral:
    id: str
    case_id: str
    reference: str
    hotline_id: str
    contact_point_id: str
    role: str
    state: str
    routed_at: datetime
    ack_due_at: datetime
    reminded_at: datetime | None


def overdue(connection: Connection, now: datetime) -> tuple[int, list]:
    """How many referrals are overdue now, and the longest overdue of them."""
    awaiting = (
        referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT),
        referrals.c.ack_due_at < now,
    )
    total = connection.execute(
        select(func.count()).select_from(referrals).where(*awaiting)
    ).scalar_one()
    statement = (
        select(
            referrals.c.id,
            referrals.c.case_id,
            cases.c.reference,
            cases.c.hotline_id,
            referrals.c.contact_point_id,
            referrals.c.role,
            referrals.c.state,
            referrals.c.routed_at,
            referrals.c.ack_due_at,
            referrals.c.reminded_at,
        )
        .join(cases, cases.c.id == referrals.c.case_id)
        .where(*awaiting)
        .order_by(referrals.c.ack_due_at, referrals.c.id)
        .limit(OVERDUE_SHOWN)
    )

    return total, [OverdueReferral(*row) for row in connection.execute(statement)]


@dataclass
class DeliveryHealth:
    outbox_waiting: int
    outbox_oldest_age_seconds: float
    awaiting_delivery: int
    parked_entries: int
    by_status: dict[str, int] = field(default_factory=dict)


# The delivery work adds referrals.delivery_status; until it lands the page
# falls back on the outbox and the audit log.
DELIVERY_STATUSES = ("queued", "retrying", "parked")


def delivery_health(connection: Connection, backlog: dict) -> DeliveryHealth:
    """Queue depth, retrying and parked messages."""
    awaiting = connection.execute(
        select(func.count())
        .select_from(referrals)
        .where(referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT))
        .where(referrals.c.state == "routed")
    ).scalar_one()
    parked = connection.execute(
        select(func.count())
        .select_from(audit_entries)
        .where(audit_entries.c.action == "delivery_parked")
    ).scalar_one()
    by_status: dict[str, int] = {}
    status = referrals.c.get("delivery_status")
    if status is not None:
        by_status = {name: 0 for name in DELIVERY_STATUSES}
        by_status.update(
            connection.execute(
                select(status, func.count())
                .where(status.in_(DELIVERY_STATUSES))
                .group_by(status)
            ).all()
        )

    return DeliveryHealth(
        outbox_waiting=backlog["waiting"],
        outbox_oldest_age_seconds=backlog["oldest_age_seconds"],
        awaiting_delivery=awaiting,
        parked_entries=parked,
        by_status=by_status,
    )


@dataclass
class DirectoryEntry:
    id: str
    name: str
    kind: str
    country: str | None
    verified_on: date
    stale: bool
    suspended: bool = False


def directory_entries(
    connection: Connection, today: date, stale_after_days: int
) -> tuple[list[DirectoryEntry], list[DirectoryEntry]]:
    """Hotlines and contact points, those not verified lately flagged stale."""
    cutoff = today - timedelta(days=stale_after_days)
    hotline_rows = connection.execute(
        select(
            hotlines.c.id, hotlines.c.name, hotlines.c.country, hotlines.c.verified_on
        ).order_by(hotlines.c.verified_on, hotlines.c.id)
    )
    hotline_entries = [
        DirectoryEntry(
            row.id,
            row.name,
            "hotline",
            row.country,
            row.verified_on,
            row.verified_on < cutoff,
        )
        for row in hotline_rows
    ]
    point_rows = connection.execute(
        select(
            contact_points.c.id,
            contact_points.c.name,
            contact_points.c.kind,
            contact_points.c.country,
            contact_points.c.verified_on,
            contact_points.c.suspended,
        ).order_by(contact_points.c.verified_on, contact_points.c.id)
    )
    point_entries = [
        DirectoryEntry(
            row.id,
            row.name,
            row.kind,
            row.country,
            row.verified_on,
            row.verified_on < cutoff,
            row.suspended,
        )
        for row in point_rows
    ]

    return hotline_entries, point_entries


def rule_set_versions(connection: Connection) -> list[tuple[str, int]]:
    """Every rule set version that routed a case, with how many it routed."""
    statement = (
        select(cases.c.rule_set_version, func.count())
        .group_by(cases.c.rule_set_version)
        .order_by(cases.c.rule_set_version.desc())
    )

    return [tuple(row) for row in connection.execute(statement)]
