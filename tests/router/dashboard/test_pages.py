"""The dashboard's pages against the database they read, on both backends."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from sqlalchemy import func, insert, select, update

from router.dashboard.queries import percentile
from router.persistence.tables import (
    audit_entries,
    cases,
    contact_points,
    notices,
    referrals,
)
from tests.dashboard_helpers import csrf_token, expected_for, seed_referrals
from tests.factories import SYNTHETIC, a_report, a_single_referral_report

PAGES = (
    "/dashboard/",
    "/dashboard/overdue",
    "/dashboard/delivery",
    "/dashboard/directory",
    "/dashboard/rules",
    "/dashboard/report",
)


def cell(page: str, key: str, field: str) -> str:
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', page, re.S)
    value = re.search(rf'data-field="{field}" data-value="([^"]*)"', row.group(1))

    return value.group(1)


def test_the_figures_per_contact_point_match_the_database(
    dashboard, services, caller, clock
):
    """Counts, share in time, median, 90th percentile and overdue are exact."""
    seed_referrals(caller, clock)
    expected = expected_for(services, "cp-th-police", clock.now())

    page = dashboard.get("/dashboard/").get_data(as_text=True)

    assert int(cell(page, "cp-th-police", "referrals")) == expected["referrals"]
    assert int(cell(page, "cp-th-police", "acknowledged")) == expected["acknowledged"]
    share = float(cell(page, "cp-th-police", "share_within_target"))
    assert share == pytest.approx(expected["share"])
    median = float(cell(page, "cp-th-police", "median_hours"))
    assert median == pytest.approx(expected["median"], abs=1e-3)
    p90 = float(cell(page, "cp-th-police", "p90_hours"))
    assert p90 == pytest.approx(expected["p90"], abs=1e-3)
    assert int(cell(page, "cp-th-police", "overdue_now")) == expected["overdue"]


def test_the_figures_per_hotline_count_their_referrals(dashboard, caller, clock):
    """Per hotline, referrals are those of the cases it filed."""
    seed_referrals(caller, clock)

    page = dashboard.get("/dashboard/").get_data(as_text=True)

    # DASH-1, 3, 5 come from hl-at-demo: one multi-referral report (4), two single.
    assert int(cell(page, "hl-at-demo", "referrals")) == 6


def test_the_aggregate_pages_never_show_case_content(dashboard, caller, clock):
    """No page but a case's own shows what a report says."""
    seed_referrals(caller, clock)

    bodies = [dashboard.get(path).get_data(as_text=True) for path in PAGES]

    assert all(SYNTHETIC not in body for body in bodies)
    assert all("Synthetic suspect" not in body for body in bodies)


def test_the_overdue_list_counts_what_is_overdue(dashboard, services, caller, clock):
    """The overdue list counts every referral past its deadline."""
    seed_referrals(caller, clock)
    with services.engine.connect() as connection:
        expected = connection.execute(
            select(func.count()).where(
                referrals.c.state.in_(("routed", "delivered")),
                referrals.c.ack_due_at < clock.now(),
            )
        ).scalar_one()

    page = dashboard.get("/dashboard/overdue").get_data(as_text=True)

    assert f'id="overdue-total" data-value="{expected}"' in page
    assert page.count("<tr data-referral=") == expected


def act(dashboard, referral_id: str, action: str):
    token = csrf_token(dashboard, "/dashboard/overdue")

    return dashboard.post(
        f"/dashboard/referrals/{referral_id}/{action}", data={"csrf_token": token}
    )


def test_remind_queues_a_reminder_notice(dashboard, services, caller, clock):
    """Remind queues a notice to the contact point and records who asked."""
    lead = seed_referrals(caller, clock)["DASH-5"]

    response = act(dashboard, lead["id"], "remind")

    assert response.status_code == 302
    with services.engine.connect() as connection:
        notice = connection.execute(select(notices)).one()
        audit = connection.execute(
            select(audit_entries.c.actor).where(
                audit_entries.c.action == "reminder_queued",
                audit_entries.c.referral_id == lead["id"],
            )
        ).scalar_one()
    assert (notice.kind, notice.recipient_id) == ("reminder", lead["contact_point_id"])
    assert audit == "coordinator:coord-1"


def test_reroute_hands_the_referral_to_the_next_contact_point(
    dashboard, services, caller, clock
):
    """Re-route revokes the referral and makes its replacement."""
    lead = seed_referrals(caller, clock)["DASH-5"]

    act(dashboard, lead["id"], "reroute")

    with services.engine.connect() as connection:
        old = connection.execute(
            select(referrals.c.state, referrals.c.revoked_by).where(
                referrals.c.id == lead["id"]
            )
        ).one()
        replacement = connection.execute(
            select(referrals.c.state).where(
                referrals.c.replaces_referral_id == lead["id"]
            )
        ).scalar_one()
    assert tuple(old) == ("revoked", "coordinator:coord-1")
    assert replacement == "routed"


def test_revoke_withdraws_the_referral(dashboard, services, caller, clock):
    """Revoke withdraws the referral and it leaves the overdue list."""
    lead = seed_referrals(caller, clock)["DASH-6"]

    act(dashboard, lead["id"], "revoke")

    page = dashboard.get("/dashboard/overdue").get_data(as_text=True)
    assert f'data-referral="{lead["id"]}"' not in page


def test_an_action_on_a_moved_on_referral_says_why(dashboard, caller, clock):
    """Reminding an acknowledged referral is refused with the reason shown."""
    lead = seed_referrals(caller, clock)["DASH-1"]

    act(dashboard, lead["id"], "remind")

    page = dashboard.get("/dashboard/overdue").get_data(as_text=True)
    assert "needs no reminder" in page


def test_the_directory_flags_stale_entries(dashboard, services):
    """A contact point not verified within the year is flagged stale."""
    with services.engine.begin() as connection:
        connection.execute(
            update(contact_points)
            .where(contact_points.c.id == "cp-th-police")
            .values(verified_on=date(2024, 5, 1))
        )

    page = dashboard.get("/dashboard/directory").get_data(as_text=True)

    assert '<tr data-key="cp-th-police" class="stale">' in page
    assert '<tr data-key="cp-nl-bureau" class="">' in page


def test_the_rule_sets_page_marks_the_live_version(dashboard, services, caller, clock):
    """Each version that routed cases is listed with its count; the live one
    is marked."""
    seed_referrals(caller, clock)
    live = services.routing.current()[0].version
    with services.engine.begin() as connection:
        connection.execute(
            update(cases)
            .where(cases.c.reference == "DASH-1")
            .values(rule_set_version="demo-0.9")
        )

    page = dashboard.get("/dashboard/rules").get_data(as_text=True)

    assert f'<tr data-key="{live}">' in page
    assert '<tr data-key="demo-0.9">' in page
    assert page.count('class="badge live"') == 1
    assert re.search(rf'data-key="{re.escape(live)}">.*?data-value="5"', page, re.S)


def set_delivery_status(services, referral_id: str, status: str) -> None:
    with services.engine.begin() as connection:
        connection.execute(
            update(referrals)
            .where(referrals.c.id == referral_id)
            .values(delivery_status=status)
        )


def audit(services, clock, action: str, referral_id: str) -> None:
    with services.engine.begin() as connection:
        connection.execute(
            insert(audit_entries),
            {
                "at": clock.now(),
                "actor": "router",
                "action": action,
                "referral_id": referral_id,
            },
        )


def test_delivery_health_shows_the_backlog_and_what_is_parked_now(
    dashboard, services, caller, clock
):
    """The backlog, and the referrals parked now: one whose message was
    unroutable, one whose destination failed, and one unroutable, replayed,
    then parked because its destination failed, which counts as the latter."""
    leads = seed_referrals(caller, clock)
    unroutable, failed, replayed, retrying = (
        leads[reference]["id"] for reference in ("DASH-1", "DASH-2", "DASH-3", "DASH-4")
    )
    audit(services, clock, "delivery_unroutable", unroutable)
    set_delivery_status(services, unroutable, "parked")
    audit(services, clock, "delivery_parked", failed)
    set_delivery_status(services, failed, "parked")
    audit(services, clock, "delivery_unroutable", replayed)
    audit(services, clock, "delivery_replayed", replayed)
    audit(services, clock, "delivery_parked", replayed)
    set_delivery_status(services, replayed, "parked")
    set_delivery_status(services, retrying, "retrying")
    with services.engine.connect() as connection:
        # Nothing relays in these tests: every referral's message still waits.
        waiting = connection.execute(
            select(func.count()).select_from(referrals)
        ).scalar_one()

    page = dashboard.get("/dashboard/delivery").get_data(as_text=True)

    assert f'data-field="outbox_waiting" data-value="{waiting}"' in page
    assert 'data-field="parked_now" data-value="3"' in page
    assert 'data-field="unroutable_now" data-value="1"' in page
    assert 'data-field="status-retrying" data-value="1"' in page
    assert f'data-field="status-queued" data-value="{waiting - 4}"' in page


def referral_cells(page: str, referral_id: str) -> dict[str, tuple[str, str]]:
    """The (value, shown text) of each field of one referral's row."""
    row = re.search(
        rf'<tr data-referral="{re.escape(referral_id)}">(.*?)</tr>', page, re.S
    )
    cells = re.findall(
        r'<td data-field="(\w+)" data-value="([^"]*)">([^<]*)</td>', row.group(1)
    )

    return {field: (value, shown) for field, value, shown in cells}


def test_the_case_page_shows_each_referrals_delivery_status(
    dashboard, services, caller, clock
):
    """Beside its lifecycle state, each referral shows how delivery stands."""
    case = caller.file("hl-at-demo", a_report("DELIVERY-1")).get_json()
    ids = [referral["id"] for referral in case["referrals"]]
    assert len(ids) >= 4
    wanted = dict(zip(ids, ("delivered", "retrying", "parked", "queued"), strict=False))
    for referral_id, status in wanted.items():
        set_delivery_status(services, referral_id, status)

    page = dashboard.get(
        f"/dashboard/cases/{case['referrals'][0]['case_id']}"
    ).get_data(as_text=True)

    shown = {
        "delivered": "Delivered",
        "retrying": "Retrying",
        "parked": "Parked",
        "queued": "Queued",
    }
    for referral_id, status in wanted.items():
        cells = referral_cells(page, referral_id)
        assert cells["delivery_status"] == (status, shown[status])
        assert cells["state"][0] == "routed"
    assert '<th scope="col">Delivery</th>' in page


def test_the_case_page_names_delivery_statuses_in_the_readers_language(
    dashboard, services, caller
):
    """The column and its statuses come from the catalogs."""
    case = caller.file("hl-at-demo", a_single_referral_report("DELIVERY-2")).get_json()
    referral_id = case["referrals"][0]["id"]
    set_delivery_status(services, referral_id, "parked")

    page = dashboard.get(
        f"/dashboard/cases/{case['referrals'][0]['case_id']}",
        headers={"Accept-Language": "de"},
    ).get_data(as_text=True)

    assert referral_cells(page, referral_id)["delivery_status"] == ("parked", "Geparkt")
    assert '<th scope="col">Zustellung</th>' in page


def test_the_percentile_interpolates_as_postgresql_does():
    """percentile_cont: linear between the closest ranks."""
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.9) == pytest.approx(3.7)
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([], 0.5) is None


def chart_data(page: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S
    )

    return json.loads(found.group(1))


def test_the_distribution_chart_counts_acknowledgements_by_delay(
    dashboard, caller, clock
):
    """Acknowledged after 3, 10.8, 30.7 and 60.5 hours: one bar each."""
    seed_referrals(caller, clock)

    page = dashboard.get("/dashboard/").get_data(as_text=True)

    assert chart_data(page)["distribution"]["values"] == [1, 1, 0, 1, 0, 1, 0]


def test_the_trend_chart_gives_each_week_its_median(dashboard, services, caller, clock):
    """One week of referrals: its median is that of every acknowledgement."""
    seed_referrals(caller, clock)
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(referrals.c.routed_at, referrals.c.acknowledged_at).where(
                referrals.c.acknowledged_at.is_not(None)
            )
        ).all()
    hours = sorted((ack - routed).total_seconds() / 3600 for routed, ack in rows)

    trend = chart_data(dashboard.get("/dashboard/").get_data(as_text=True))["trend"]

    assert trend["labels"] == ["2026-11-30"]
    assert trend["median"] == [round(percentile(hours, 0.5), 2)]


def test_a_report_received_long_before_it_was_filed_counts_for_its_hotline(
    dashboard, caller
):
    """A case received months before routing still counts for its hotline."""
    old = a_single_referral_report("DASH-OLD")
    old["received_at"] = "2026-02-01T10:00:00+00:00"
    filed = caller.file("hl-de-demo", old)
    assert filed.status_code == 201, filed.get_data(as_text=True)

    page = dashboard.get("/dashboard/").get_data(as_text=True)

    assert int(cell(page, "hl-de-demo", "referrals")) == 1
