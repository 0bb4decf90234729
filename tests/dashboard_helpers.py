"""Coordinators' accounts, logins and synthetic referrals for dashboard tests.

Every report filed here is synthetic and says so (see `tests.factories`).
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from router.dashboard.accounts import create_account
from router.dashboard.queries import percentile
from router.persistence.tables import referrals
from tests.factories import a_report, a_single_referral_report

PASSWORD = "synthetic-password-1"
HOTLINES = ("hl-at-demo", "hl-de-demo")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_account(
    services,
    username: str = "coord-1",
    *,
    role: str = "coordinator",
    checked_on: date = date(2026, 1, 10),
    expires_on: date = date(2027, 1, 10),
):
    return create_account(
        services.engine,
        username=username,
        password=PASSWORD,
        role=role,
        background_checked_on=checked_on,
        background_check_expires_on=expires_on,
        now=services.clock.now(),
    )


def csrf_token(client, path: str = "/dashboard/login") -> str:
    return _CSRF.search(client.get(path).get_data(as_text=True)).group(1)


def log_in(client, username: str = "coord-1", password: str = PASSWORD):
    token = csrf_token(client)

    return client.post(
        "/dashboard/login",
        data={"username": username, "password": password, "csrf_token": token},
    )


def seed_referrals(caller, clock) -> dict:
    """Six synthetic cases: some acknowledged in time, one late, some overdue.

    Returns the lead referral of each case by reference.
    """
    leads = {}
    delays = {
        "DASH-1": 2,
        "DASH-2": 10,
        "DASH-3": 30,
        "DASH-4": 60,
        "DASH-5": None,
        "DASH-6": None,
    }
    for number, reference in enumerate(delays):
        hotline = HOTLINES[number % 2]
        report = a_report(reference) if number < 2 else None
        report = report or a_single_referral_report(reference)
        case = caller.file(hotline, report).get_json()
        leads[reference] = next(r for r in case["referrals"] if r["role"] == "lead")
        clock.advance(minutes=10)
    start = clock.now()
    for reference, hours in sorted(
        ((ref, h) for ref, h in delays.items() if h is not None), key=lambda p: p[1]
    ):
        clock.set(start)
        clock.advance(hours=hours)
        lead = leads[reference]
        response = caller.acknowledge(lead["contact_point_id"], lead["id"])
        assert response.status_code == 200, response.get_data(as_text=True)
    clock.set(start)
    clock.advance(hours=72)

    return leads


def expected_for(services, contact_point_id: str, now) -> dict:
    """The figures of one contact point, computed from the rows themselves."""
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(referrals).where(referrals.c.contact_point_id == contact_point_id)
        ).all()
    acknowledged = [row for row in rows if row.acknowledged_at is not None]
    decided = [row for row in rows if row.acknowledged_at or row.ack_due_at < now]
    within = [row for row in rows if row.acknowledged_within_target]
    hours = sorted(
        (row.acknowledged_at - row.routed_at).total_seconds() / 3600
        for row in acknowledged
    )
    overdue = [
        row
        for row in rows
        if row.state in ("routed", "delivered") and row.ack_due_at < now
    ]

    return {
        "referrals": len(rows),
        "acknowledged": len(acknowledged),
        "share": len(within) / len(decided),
        "median": percentile(hours, 0.5),
        "p90": percentile(hours, 0.9),
        "overdue": len(overdue),
    }
