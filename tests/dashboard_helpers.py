"""Coordinators' accounts, logins and synthetic referrals for dashboard tests.

Every report filed here is synthetic and says so (see `tests.factories`).
"""

from __future__ import annotations

import io
import random
import re
from datetime import UTC, date, datetime, timedelta

from pypdf import PdfReader
from sqlalchemy import insert, select

from router.dashboard.accounts import create_account
from router.dashboard.queries import percentile
from router.persistence.tables import cases, contact_points, hotlines, referrals
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


def csrf_token(client, path: str = "/dashboard/login", **options) -> str:
    """The CSRF token of a page's form; `options` go to the test client (a
    `base_url`, `headers`)."""
    page = client.get(path, **options).get_data(as_text=True)

    return _CSRF.search(page).group(1)


def log_in(client, username: str = "coord-1", password: str = PASSWORD, **options):
    token = csrf_token(client, **options)

    return client.post(
        "/dashboard/login",
        data={"username": username, "password": password, "csrf_token": token},
        **options,
    )


def cookie_attributes(header: str) -> tuple[str, set[str]]:
    """A Set-Cookie header's cookie name and its attributes, as written."""
    first, *attributes = (part.strip() for part in header.split(";"))

    return first.split("=", 1)[0], set(attributes)


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


def seed_history(services, now, days: int = 400, seed: int = 7) -> None:
    """Synthetic referrals over `days` days before `now`, written directly:
    most acknowledged after a random delay, some late, some never, the last
    ones still inside their 48 hours."""
    draw = random.Random(seed)
    with services.engine.begin() as connection:
        hotline_ids = connection.execute(select(hotlines.c.id)).scalars().all()
        point_ids = (
            connection.execute(
                select(contact_points.c.id).where(
                    contact_points.c.kind != "coordinator"
                )
            )
            .scalars()
            .all()
        )
        case_rows, referral_rows = [], []
        for number in range(days * 3):
            routed_at = now - timedelta(hours=number * 8 + draw.uniform(0, 8))
            case_id = f"hist-case-{number}"
            case_rows.append(
                {
                    "id": case_id,
                    "hotline_id": draw.choice(hotline_ids),
                    "reference": f"HIST-{number}",
                    "body_sha256": "0" * 64,
                    "received_at": routed_at,
                    "routed_at": routed_at,
                    "category": "other",
                    "immediate_danger": False,
                    "incident_country": "TH",
                    "rule_set_version": "synthetic",
                    "content": '{"synthetic": true}',
                }
            )
            referral_rows.append(
                _historic_referral(draw, number, case_id, routed_at, now)
            )
            referral_rows[-1]["contact_point_id"] = draw.choice(point_ids)
        connection.execute(insert(cases), case_rows)
        connection.execute(insert(referrals), referral_rows)


def _historic_referral(draw, number: int, case_id: str, routed_at, now) -> dict:
    delay = timedelta(hours=draw.expovariate(1 / 20))
    acknowledged = draw.random() > 0.05 and routed_at + delay <= now
    ack_due_at = routed_at + timedelta(hours=48)
    acknowledged_at = routed_at + delay if acknowledged else None

    return {
        "id": f"hist-referral-{number}",
        "case_id": case_id,
        "role": "lead",
        "state": "acknowledged" if acknowledged else "delivered",
        "rule_id": "synthetic",
        "routed_at": routed_at,
        "ack_due_at": ack_due_at,
        "acknowledged_at": acknowledged_at,
        "acknowledged_within_target": (
            acknowledged_at <= ack_due_at if acknowledged else None
        ),
    }


# A year's worth of synthetic cases, small enough to count by hand: each case
# as (reference, hotline, category, incident country, received at), with its
# referrals as (contact point, role, hours to acknowledge, None if never). Two
# cases fall just outside 2026 and must count nowhere in its report.
ANNUAL_CASES = (
    (
        ("AR-1", "hl-at-demo", "travel_tourism_offence", "TH", (2026, 3, 1, 10)),
        (
            ("cp-th-police", "lead", 2),
            ("cp-at-police", "informed", 10),
            ("cp-th-ngo", "support", 51),
        ),
    ),
    (
        ("AR-2", "hl-at-demo", "online_abuse_material", "NL", (2026, 5, 10, 8)),
        (("cp-nl-police", "lead", 30), ("cp-nl-ngo", "support", None)),
    ),
    (
        ("AR-3", "hl-at-demo", "travel_tourism_offence", "TH", (2026, 7, 1, 16)),
        (("cp-th-police", "lead", 4),),
    ),
    (
        ("AR-4", "hl-de-demo", "grooming", "DE", (2026, 2, 2, 9)),
        (
            ("cp-de-police", "lead", 20),
            ("cp-de-ngo", "support", 40),
            ("cp-de-bureau", "informed", None),
        ),
    ),
    (
        # Received a day before the clock's now: its lead is still in time.
        ("AR-5", "hl-de-demo", "travel_tourism_offence", None, (2026, 11, 30, 12)),
        (("cp-th-police", "lead", None), ("cp-th-tourist-police", "informed", 1)),
    ),
    (
        ("AR-OUT-1", "hl-at-demo", "other", "TH", (2025, 12, 31, 23, 59)),
        (("cp-th-police", "lead", 100),),
    ),
    (
        ("AR-OUT-2", "hl-de-demo", "other", "TH", (2027, 1, 1, 0)),
        (("cp-th-police", "lead", 0.25),),
    ),
)


def seed_annual_set(services) -> None:
    """Write `ANNUAL_CASES` straight into the database, routed on receipt."""
    case_rows, referral_rows = [], []
    for (reference, hotline, category, country, received), points in ANNUAL_CASES:
        received_at = datetime(*received, tzinfo=UTC)
        case_id = f"annual-{reference}"
        case_rows.append(
            {
                "id": case_id,
                "hotline_id": hotline,
                "reference": reference,
                "body_sha256": "0" * 64,
                "received_at": received_at,
                "routed_at": received_at,
                "category": category,
                "immediate_danger": False,
                "incident_country": country,
                "rule_set_version": "synthetic",
                "content": '{"synthetic": true}',
            }
        )
        for number, (point, role, hours) in enumerate(points):
            due = received_at + timedelta(hours=48)
            acknowledged_at = (
                None if hours is None else received_at + timedelta(hours=hours)
            )
            referral_rows.append(
                {
                    "id": f"{case_id}-{number}",
                    "case_id": case_id,
                    "contact_point_id": point,
                    "role": role,
                    "state": "delivered" if hours is None else "acknowledged",
                    "rule_id": "synthetic",
                    "routed_at": received_at,
                    "ack_due_at": due,
                    "acknowledged_at": acknowledged_at,
                    "acknowledged_within_target": (
                        None if hours is None else acknowledged_at <= due
                    ),
                }
            )
    with services.engine.begin() as connection:
        connection.execute(insert(cases), case_rows)
        connection.execute(insert(referrals), referral_rows)


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, its whitespace collapsed."""
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() or "" for page in reader.pages)

    return " ".join(text.split())
