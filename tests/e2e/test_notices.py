"""Reminders and escalations reach their recipients over the real webhook."""

from __future__ import annotations

import json

from router.embedded import sla_clock
from tests.factories import a_single_referral_report


def test_a_reminder_and_an_escalation_arrive_without_content(
    running, client_for, clock
):
    """The contact point is reminded at 24 h; the coordinators hear at 48 h."""
    case = client_for("hl-at-demo").file_report(a_single_referral_report()).json()
    lead = case["referrals"][0]
    clock_of_router = sla_clock(running.services)

    clock.advance(hours=24, seconds=1)
    clock_of_router.tick()
    clock.advance(hours=24)
    clock_of_router.tick()

    inbox = running.inbox_dir
    reminder = json.loads(
        next((inbox / "cp-th-police" / "notices").glob("reminder-*.json")).read_text()
    )
    escalation = json.loads(
        next(
            (inbox / "cp-coordinators" / "notices").glob("escalation-*.json")
        ).read_text()
    )
    assert reminder["referral_id"] == escalation["referral_id"] == lead["id"]
    assert escalation["ack_due_at"] == lead["ack_due_at"]
    assert "content" not in reminder and "content" not in escalation
