"""`POST /v1/referrals/{id}/decline`: not competent, so it goes down the chain."""

from __future__ import annotations

from tests.factories import a_report
from tests.router.api.test_acknowledgements import lead_of
from tests.router.api.test_reports import HOTLINE, assert_problem


def decline(caller, referral, reason="not_competent"):
    path = f"/v1/referrals/{referral['id']}/decline"

    return caller.send(referral["contact_point_id"], "POST", path, {"reason": reason})


def referral_to(case: dict, contact_point_id: str) -> dict:
    return next(
        r for r in case["referrals"] if r["contact_point_id"] == contact_point_id
    )


def test_a_decline_reroutes_to_the_next_contact_point_with_a_fresh_deadline(
    caller, clock
):
    """Thai police decline; the regional bureau leads, due 48 h from now."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    clock.advance(hours=30)

    response = decline(caller, lead)

    assert response.status_code == 200
    assert response.get_json()["state"] == "declined"
    assert response.get_json()["decline_reason"] == "not_competent"
    case = caller.follow(HOTLINE, "TEST-0001").get_json()
    bureau = referral_to(case, "cp-asean-bureau")
    assert bureau["role"] == "lead"
    assert bureau["state"] == "routed"
    assert bureau["replaces_referral_id"] == lead["id"]
    assert bureau["routed_at"] == "2026-12-02T15:00:00+00:00"
    assert bureau["ack_due_at"] == "2026-12-04T15:00:00+00:00"


def test_the_chain_ends_with_the_coordinators(caller):
    """When the bureau declines too, the coordinators get the referral."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    decline(caller, lead)
    case = caller.follow(HOTLINE, "TEST-0001").get_json()

    decline(caller, referral_to(case, "cp-asean-bureau"))

    case = caller.follow(HOTLINE, "TEST-0001").get_json()
    coordinators = referral_to(case, "cp-coordinators")
    assert coordinators["role"] == "lead"
    assert coordinators["state"] == "routed"


def test_the_replacement_is_queued_sealed_for_its_new_contact_point(caller, services):
    """The new referral gets its own outbox row, sealed to the new receiver."""
    import json

    from sqlalchemy import select

    from router.persistence.tables import outbox

    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    decline(caller, lead)

    with services.engine.connect() as connection:
        rows = connection.execute(
            select(outbox.c.contact_point_id, outbox.c.payload)
        ).all()
    payloads = {row.contact_point_id: json.loads(row.payload) for row in rows}
    assert payloads["cp-asean-bureau"]["role"] == "lead"
    assert payloads["cp-asean-bureau"]["content"]["ciphertext"]


def test_a_referral_cannot_be_declined_twice(caller):
    """Declined is an end state for that referral."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    decline(caller, lead)

    again = decline(caller, lead)

    assert_problem(again, 409, "invalid-transition")


def test_another_contact_point_cannot_decline(caller):
    """Acting on another's referral gets 404."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    response = caller.send(
        "cp-fr-police",
        "POST",
        f"/v1/referrals/{lead['id']}/decline",
        {"reason": "not_competent"},
    )

    assert_problem(response, 404, "not-found")


def test_a_reason_outside_the_vocabulary_is_refused(caller):
    """Decline reasons come from a fixed list."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    response = decline(caller, lead, reason="busy")

    assert_problem(response, 422, "validation-failed")
