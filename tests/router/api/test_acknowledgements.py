"""`POST /v1/referrals/{id}/acknowledgement` through the real app."""

from __future__ import annotations

from sqlalchemy import select, update

from router.persistence.tables import audit_entries, referrals
from tests.factories import a_report
from tests.router.api.test_reports import HOTLINE, assert_problem


def lead_of(case: dict) -> dict:
    return next(r for r in case["referrals"] if r["role"] == "lead")


def test_the_addressed_contact_point_acknowledges(caller, clock):
    """An acknowledgement within 48 hours is recorded as within target."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    clock.advance(hours=5)

    response = caller.acknowledge(
        lead["contact_point_id"], lead["id"], acknowledged_by="desk-7"
    )

    assert response.status_code == 200
    referral = response.get_json()
    assert referral["state"] == "acknowledged"
    assert referral["acknowledged_at"] == "2026-12-01T14:00:00+00:00"
    assert referral["acknowledged_within_target"] is True


def test_an_empty_body_is_enough(caller):
    """The acknowledgement's body is optional."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    response = caller.send(
        lead["contact_point_id"],
        "POST",
        f"/v1/referrals/{lead['id']}/acknowledgement",
    )

    assert response.status_code == 200
    assert response.get_json()["state"] == "acknowledged"


def test_a_late_acknowledgement_is_recorded_as_late(caller, clock):
    """After the deadline, the acknowledgement counts, but not as within target."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    clock.advance(hours=48, seconds=1)

    referral = caller.acknowledge(lead["contact_point_id"], lead["id"]).get_json()

    assert referral["state"] == "acknowledged"
    assert referral["acknowledged_within_target"] is False


def test_repeating_an_acknowledgement_changes_nothing(caller, clock, services):
    """The second acknowledgement returns the first one's record unchanged."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    first = caller.acknowledge(lead["contact_point_id"], lead["id"]).get_json()
    clock.advance(hours=60)

    second = caller.acknowledge(lead["contact_point_id"], lead["id"])

    assert second.status_code == 200
    assert second.get_json() == first
    with services.engine.connect() as connection:
        actions = connection.execute(
            select(audit_entries.c.action).where(
                audit_entries.c.referral_id == lead["id"]
            )
        ).scalars()
        assert list(actions).count("referral_acknowledged") == 1


def test_another_contact_point_gets_404(caller):
    """A contact point acknowledging another's referral is told it does not exist."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    foreign = caller.acknowledge("cp-fr-police", lead["id"])
    missing = caller.acknowledge(lead["contact_point_id"], "no-such-referral")

    assert_problem(foreign, 404, "not-found")
    assert_problem(missing, 404, "not-found")
    assert foreign.get_json()["detail"] == missing.get_json()["detail"]


def test_a_hotline_cannot_acknowledge(caller):
    """Acknowledging is for contact points: a hotline's call gets 403."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    response = caller.acknowledge(HOTLINE, lead["id"])

    assert_problem(response, 403, "forbidden")


def test_a_revoked_referral_cannot_be_acknowledged(caller, services):
    """A referral that is no longer open refuses the acknowledgement with 409."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    with services.engine.begin() as connection:
        connection.execute(
            update(referrals)
            .where(referrals.c.id == lead["id"])
            .values(state="revoked")
        )

    response = caller.acknowledge(lead["contact_point_id"], lead["id"])

    assert_problem(response, 409, "invalid-transition")


def test_an_unknown_field_in_the_acknowledgement_is_refused(caller):
    """The acknowledgement contract is strict too."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())

    response = caller.acknowledge(lead["contact_point_id"], lead["id"], note="x")

    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"] == {"note": ["Unknown field."]}


def test_the_hotline_sees_the_acknowledgement(caller, clock):
    """Following the report shows when each referral was acknowledged."""
    lead = lead_of(caller.file(HOTLINE, a_report()).get_json())
    clock.advance(hours=3)
    caller.acknowledge(lead["contact_point_id"], lead["id"])

    case = caller.follow(HOTLINE, "TEST-0001").get_json()

    followed = lead_of(case)
    assert followed["state"] == "acknowledged"
    assert followed["acknowledged_within_target"] is True
    assert followed["acknowledged_at"] == "2026-12-01T12:00:00+00:00"
