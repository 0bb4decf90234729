"""The 48-hour clock on both backends: reminders, escalation, exactly once.

Time is moved by the test's clock; nothing here sleeps to wait for a deadline.
"""

from __future__ import annotations

import threading
from functools import partial

import pytest
from sqlalchemy import func, select

from router.coordination import revoke
from router.persistence.tables import audit_entries, notices, referrals
from router.sla import SlaClock
from tests.factories import a_report, a_single_referral_report
from tests.router.api.test_acknowledgements import lead_of
from tests.router.api.test_reports import HOTLINE


class RecordingNotifier:
    """A notice channel that keeps what it is given, for the test to read."""

    def __init__(self) -> None:
        self.sent = []
        self._lock = threading.Lock()

    def send(self, notice) -> None:
        with self._lock:
            self.sent.append(notice)


@pytest.fixture
def notifier():
    return RecordingNotifier()


@pytest.fixture
def sla(services, notifier):
    return SlaClock(services, notifier)


@pytest.fixture
def lead(caller):
    """The one referral of a report that goes to the Thai police alone."""
    case = caller.file(HOTLINE, a_single_referral_report()).get_json()
    assert len(case["referrals"]) == 1

    return case["referrals"][0]


def breaches(services) -> int:
    with services.engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(audit_entries)
            .where(audit_entries.c.action == "deadline_breached")
        ).scalar_one()


def sent(notifier, kind: str) -> list:
    return [notice for notice in notifier.sent if notice.kind == kind]


def at_once(*jobs) -> list:
    """Run each job in a thread of its own, all released together; returns
    their results in order, and fails the test if any of them raised."""
    start = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors = []

    def run(number, job):
        start.wait()
        try:
            results[number] = job()
        except Exception as error:  # noqa: BLE001 - reported by the assertion
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(number, job))
        for number, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    return results


def count(connection, table, *conditions) -> int:
    statement = select(func.count()).select_from(table).where(*conditions)

    return connection.execute(statement).scalar_one()


def escalation_of(services, notifier, referral_id: str) -> dict:
    """What an escalation of this referral leaves behind, counted: breach
    records, notices to the coordinators (queued and sent), fallbacks."""
    with services.engine.connect() as connection:
        breach = count(
            connection,
            audit_entries,
            audit_entries.c.action == "deadline_breached",
            audit_entries.c.referral_id == referral_id,
        )
        notice = count(
            connection,
            notices,
            notices.c.kind == "escalation",
            notices.c.referral_id == referral_id,
            notices.c.recipient_id == "cp-coordinators",
        )
        fallback = count(
            connection,
            referrals,
            referrals.c.replaces_referral_id == referral_id,
            referrals.c.contact_point_id == "cp-asean-bureau",
        )
    notice_sent = [
        n
        for n in sent(notifier, "escalation")
        if (n.referral_id, n.recipient_id) == (referral_id, "cp-coordinators")
    ]

    return {
        "breach": breach,
        "notice": notice,
        "notice_sent": len(notice_sent),
        "fallback": fallback,
    }


def test_no_escalation_at_47_59(lead, clock, sla, services):
    """A minute before the deadline nothing is escalated."""
    clock.advance(hours=47, minutes=59)

    tick = sla.tick()

    assert tick.escalated == 0
    assert breaches(services) == 0


def test_one_escalation_just_after_48_hours(lead, clock, sla, services, notifier):
    """At 48:00:01 the lead is breached once and the coordinators are told."""
    clock.advance(hours=48, seconds=1)

    tick = sla.tick()

    assert tick.escalated == 1
    assert breaches(services) == 1
    escalations = sent(notifier, "escalation")
    assert [n.referral_id for n in escalations] == [lead["id"]]
    assert escalations[0].recipient_id == "cp-coordinators"


def test_a_restarted_clock_repeats_nothing(lead, clock, services, notifier):
    """A new clock over the same database finds nothing left to do."""
    clock.advance(hours=48, seconds=1)
    SlaClock(services, notifier).tick()

    again = SlaClock(services, notifier).tick()

    assert (again.escalated, again.reminded, again.notices_sent) == (0, 0, 0)
    assert breaches(services) == 1
    assert len(sent(notifier, "escalation")) == 1


def test_two_clocks_at_once_escalate_once(lead, clock, services, notifier):
    """Two clocks ticking together still escalate and notify exactly once."""
    clock.advance(hours=48, seconds=1)
    clocks = [SlaClock(services, notifier) for _ in range(2)]

    ticks = at_once(*(sla_clock.tick for sla_clock in clocks))

    assert sum(tick.escalated for tick in ticks) == 1
    assert breaches(services) == 1
    assert len(sent(notifier, "escalation")) == 1


def test_two_clocks_at_once_remind_once(caller, clock, services, notifier):
    """Two clocks ticking together send exactly one reminder per referral."""
    case = caller.file(HOTLINE, a_report()).get_json()
    expected = sorted(
        (referral["id"], referral["contact_point_id"]) for referral in case["referrals"]
    )
    assert len(expected) > 1
    clock.advance(hours=24, seconds=1)
    clocks = [SlaClock(services, notifier) for _ in range(2)]

    ticks = at_once(*(sla_clock.tick for sla_clock in clocks))
    again = SlaClock(services, notifier).tick()

    reminders = sent(notifier, "reminder")
    assert sum(tick.reminded for tick in ticks) == len(expected)
    assert again.reminded == 0
    assert sorted((n.referral_id, n.recipient_id) for n in reminders) == expected
    with services.engine.connect() as connection:
        queued = connection.execute(
            select(audit_entries.c.referral_id).where(
                audit_entries.c.action == "reminder_queued"
            )
        ).scalars()
        assert sorted(queued) == [referral_id for referral_id, _ in expected]


def test_an_overdue_lead_is_referred_to_the_fallback(caller, lead, clock, sla):
    """The rules escalate leads: the regional bureau gets a fresh referral."""
    clock.advance(hours=48, seconds=1)

    tick = sla.tick()

    case = caller.follow(HOTLINE, "TEST-0001").get_json()
    bureau = next(
        r for r in case["referrals"] if r["contact_point_id"] == "cp-asean-bureau"
    )
    original = next(r for r in case["referrals"] if r["id"] == lead["id"])
    assert tick.rerouted == 1
    assert bureau["replaces_referral_id"] == lead["id"]
    assert bureau["ack_due_at"] == "2026-12-05T09:00:01+00:00"
    assert original["breached_at"] == "2026-12-03T09:00:01+00:00"


def test_an_overdue_informed_referral_is_only_reported(caller, clock, sla):
    """Roles the rules do not escalate get a notice to coordinators, no fallback."""
    case = caller.file(HOTLINE, a_report()).get_json()
    lead = lead_of(case)
    caller.acknowledge(lead["contact_point_id"], lead["id"])
    clock.advance(hours=48, seconds=1)

    tick = sla.tick()

    informed = [r for r in case["referrals"] if r["role"] == "informed"]
    assert len(informed) >= 1
    assert tick.escalated == len(informed)
    assert tick.rerouted == 0


RACES = 6


def test_an_acknowledgement_racing_the_escalation_stays_consistent(
    caller, clock, services, notifier
):
    """Whichever commits first, the ending is whole. Escalation first: one
    breach, one notice to the coordinators, one fallback referral, and the
    acknowledgement recorded late. Acknowledgement first: none of them."""
    for race in range(RACES):
        report = a_single_referral_report(f"RACE-{race}")
        lead = caller.file(HOTLINE, report).get_json()["referrals"][0]
        clock.advance(hours=48, seconds=1)
        sla = SlaClock(services, notifier)

        answer, _ = at_once(
            partial(caller.acknowledge, lead["contact_point_id"], lead["id"]),
            sla.tick,
        )

        referral = next(
            r
            for r in caller.follow(HOTLINE, report["reference"]).get_json()["referrals"]
            if r["id"] == lead["id"]
        )
        escalated = referral["breached_at"] is not None
        left = 1 if escalated else 0
        assert answer.status_code == 200
        assert referral["state"] == "acknowledged"
        assert referral["acknowledged_within_target"] is False
        assert escalation_of(services, notifier, lead["id"]) == {
            "breach": left,
            "notice": left,
            "notice_sent": left,
            "fallback": left,
        }


def test_an_acknowledgement_after_escalation_counts_as_late(caller, lead, clock, sla):
    """Acknowledged after the breach: recorded, and late."""
    clock.advance(hours=48, seconds=1)
    sla.tick()

    referral = caller.acknowledge(lead["contact_point_id"], lead["id"]).get_json()

    assert referral["state"] == "acknowledged"
    assert referral["breached_at"] is not None
    assert referral["acknowledged_within_target"] is False


def test_a_reminder_goes_out_once_after_24_hours(lead, clock, sla, notifier):
    """At the reminder point the contact point is reminded, once."""
    clock.advance(hours=23, minutes=59)
    before = sla.tick()
    clock.advance(minutes=2)

    first = sla.tick()
    second = sla.tick()

    assert before.reminded == 0
    assert (first.reminded, second.reminded) == (1, 0)
    reminders = sent(notifier, "reminder")
    assert [n.recipient_id for n in reminders] == [lead["contact_point_id"]]


def test_no_reminder_after_acknowledgement(caller, lead, clock, sla, notifier):
    """An acknowledged referral is neither reminded nor escalated."""
    caller.acknowledge(lead["contact_point_id"], lead["id"])
    clock.advance(hours=49)

    sla.tick()

    assert lead["id"] not in {n.referral_id for n in notifier.sent}


def test_no_reminder_after_revocation(lead, clock, sla, services, notifier):
    """A revoked referral is neither reminded nor escalated."""
    revoke(services.engine, lead["id"], coordinator="coordinator-1", now=clock.now())
    clock.advance(hours=49)

    sla.tick()

    assert lead["id"] not in {n.referral_id for n in notifier.sent}


def test_no_reminder_after_closure(caller, lead, clock, sla, notifier):
    """A closed referral is neither reminded nor escalated."""
    caller.acknowledge(lead["contact_point_id"], lead["id"])
    caller.send(
        lead["contact_point_id"],
        "POST",
        f"/v1/referrals/{lead['id']}/follow-up",
        {"outcome": "no_action", "final": True},
    )
    clock.advance(hours=49)

    sla.tick()

    assert lead["id"] not in {n.referral_id for n in notifier.sent}


def test_a_reminder_queued_before_the_acknowledgement_is_dropped(
    caller, lead, clock, services, notifier
):
    """A pending reminder is not sent once its referral is acknowledged."""
    from router.sla import _REMIND  # the reminder step alone

    clock.advance(hours=25)
    with services.engine.begin() as connection:
        from router.notices import queue_notices

        rows = connection.execute(_REMIND, {"now": clock.now()}).all()
        queue_notices(
            connection, "reminder", rows, lambda r: r.contact_point_id, clock.now()
        )
    caller.acknowledge(lead["contact_point_id"], lead["id"])

    SlaClock(services, notifier).tick()

    assert sent(notifier, "reminder") == []
    with services.engine.connect() as connection:
        pending = connection.execute(
            select(func.count()).select_from(notices).where(notices.c.sent_at.is_(None))
        ).scalar_one()
    assert pending == 0


def test_acknowledging_a_revoked_referral_is_refused(caller, lead, clock, services):
    """Revoked is final for the contact point too."""
    revoke(services.engine, lead["id"], coordinator="coordinator-1", now=clock.now())

    response = caller.acknowledge(lead["contact_point_id"], lead["id"])

    assert response.status_code == 409
    assert "revoked" in response.get_json()["detail"]
