"""The figures behind the coordinators' pages, read straight from the database.

Nothing here knows Flask. Counts are SQL aggregates on both backends;
percentiles are `percentile_cont` on PostgreSQL and the same interpolation in
Python on SQLite, which has no ordered-set aggregates. The acknowledgement
dashboard has a module of its own, `overview`. Case content is never selected
by any query of these modules.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Connection,
    Float,
    cast,
    func,
    literal_column,
    select,
)

from router.delivery.parked import unroutable_referrals
from router.lifecycle import AWAITING_ACKNOWLEDGEMENT
from router.persistence.tables import (
    cases,
    contact_points,
    hotlines,
    referrals,
)

OVERDUE_SHOWN = 200


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
        return cast(
            func.extract("epoch", referrals.c.acknowledged_at - referrals.c.routed_at),
            Float,
        )

    return (
        func.julianday(referrals.c.acknowledged_at)
        - func.julianday(referrals.c.routed_at)
    ) * 86400.0


def week_of(dialect: str, column):
    """The Monday of `column`'s week (UTC), as a SQL expression."""
    if dialect == "postgresql":
        # Literal, not bound: the expression must read the same in GROUP BY.
        return func.date(
            func.date_trunc(
                literal_column("'week'"), func.timezone(literal_column("'UTC'"), column)
            )
        )

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
            (plain(row[0]) if keyed else None): tuple(row[-2:])
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
        values[plain(row[0]) if keyed else None].append(row[-1])

    return {
        group: (percentile(ordered, 0.5), percentile(ordered, 0.9))
        for group, ordered in values.items()
    }


def plain(value):
    """Group keys as Python values: dates from either backend as `date`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)

    return value


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
    # Parked now (a replay puts a referral back to queued), and of those the
    # ones whose message no queue took.
    parked_now: int
    unroutable_now: int
    by_status: dict[str, int] = field(default_factory=dict)


# Shown one by one; `parked` has its own row with the unroutable ones.
DELIVERY_STATUSES = ("queued", "retrying")


def delivery_health(connection: Connection, backlog: dict) -> DeliveryHealth:
    """Queue depth, and the referrals queued, retrying and parked now.

    The statuses are counted through the partial index on undelivered ones;
    unroutable referrals are few, found through the audit log's action index.
    """
    awaiting = connection.execute(
        select(func.count())
        .select_from(referrals)
        .where(referrals.c.state.in_(AWAITING_ACKNOWLEDGEMENT))
        .where(referrals.c.state == "routed")
    ).scalar_one()
    status = referrals.c.delivery_status
    counts = dict(
        connection.execute(
            select(status, func.count()).where(status != "delivered").group_by(status)
        ).all()
    )
    unroutable = len(unroutable_referrals(connection))

    return DeliveryHealth(
        outbox_waiting=backlog["waiting"],
        outbox_oldest_age_seconds=backlog["oldest_age_seconds"],
        awaiting_delivery=awaiting,
        parked_now=counts.get("parked", 0),
        unroutable_now=unroutable,
        by_status={name: counts.get(name, 0) for name in DELIVERY_STATUSES},
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
