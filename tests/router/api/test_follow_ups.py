"""`POST /v1/referrals/{id}/follow-up`: outcomes from a fixed vocabulary."""

from __future__ import annotations

from sqlalchemy import select

from router.persistence.tables import follow_ups
from tests.factories import a_report
from tests.router.api.test_acknowledgements import lead_of
from tests.router.api.test_reports import HOTLINE, assert_problem


def follow_up(caller, referral, **document):
    path = f"/v1/referrals/{referral['id']}/follow-up"

    return caller.send(referral["contact_point_id"], "POST", path, document)


def acknowledged_lead(caller) -> dict:
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    caller.acknowledge(lead["contact_point_id"], lead["id"])

    return lead


def test_a_follow_up_records_its_outcome(caller, clock, services):
    """The outcome becomes the referral's; the note is kept, encrypted."""
    lead = acknowledged_lead(caller)
    clock.advance(days=3)

    response = follow_up(
        caller, lead, outcome="investigation_opened", note="Synthetic note."
    )

    assert response.status_code == 200
    referral = response.get_json()
    assert referral["state"] == "follow_up_reported"
    assert referral["outcome"] == "investigation_opened"
    assert referral["follow_up_at"] == "2026-12-04T09:00:00+00:00"
    with services.engine.connect() as connection:
        stored = connection.execute(select(follow_ups.c.note)).scalar_one()
    assert "Synthetic note" not in stored
    assert services.content_keys.decrypt(stored) == b"Synthetic note."


def test_a_later_follow_up_replaces_the_outcome(caller):
    """Follow-ups may come in steps; the latest outcome stands."""
    lead = acknowledged_lead(caller)
    follow_up(caller, lead, outcome="investigation_opened")

    referral = follow_up(caller, lead, outcome="victim_support_provided").get_json()

    assert referral["outcome"] == "victim_support_provided"


def test_a_final_follow_up_closes_the_referral(caller):
    """`final: true` closes it, and nothing follows a closed referral."""
    lead = acknowledged_lead(caller)

    closed = follow_up(caller, lead, outcome="content_removed", final=True)
    after = follow_up(caller, lead, outcome="no_action")

    assert closed.get_json()["state"] == "closed"
    assert closed.get_json()["closed_at"] is not None
    assert_problem(after, 409, "invalid-transition")


def test_a_follow_up_before_the_acknowledgement_is_refused(caller):
    """A referral must be acknowledged before its follow-up."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    response = follow_up(caller, lead, outcome="no_action")

    problem = assert_problem(response, 409, "invalid-transition")
    assert "routed" in problem["detail"]


def test_an_outcome_outside_the_vocabulary_is_refused(caller):
    """Outcomes come from the fixed list."""
    lead = acknowledged_lead(caller)

    response = follow_up(caller, lead, outcome="arrested-someone")

    problem = assert_problem(response, 422, "validation-failed")
    assert "outcome" in problem["errors"]


def test_another_contact_point_cannot_report_a_follow_up(caller):
    """Acting on another's referral gets 404."""
    lead = acknowledged_lead(caller)

    response = caller.send(
        "cp-fr-police",
        "POST",
        f"/v1/referrals/{lead['id']}/follow-up",
        {"outcome": "no_action"},
    )

    assert_problem(response, 404, "not-found")
