"""`GET /v1/reports/{reference}` after a follow-up: the hotline sees each
referral's state and outcome, and nothing of the note."""

from __future__ import annotations

from tests.factories import a_report
from tests.router.api.test_acknowledgements import lead_of
from tests.router.api.test_follow_ups import follow_up
from tests.router.api.test_reports import HOTLINE


def referrals_seen(caller, reference: str = "TEST-0001") -> dict:
    response = caller.follow(HOTLINE, reference)
    assert response.status_code == 200

    return {r["id"]: r for r in response.get_json()["referrals"]}


def filed_and_acknowledged(caller, clock) -> tuple[dict, dict]:
    """A report to several contact points; its lead acknowledged after 5 h."""
    case = caller.file(HOTLINE, a_report()).get_json()
    lead = lead_of(case)
    clock.advance(hours=5)
    assert caller.acknowledge(lead["contact_point_id"], lead["id"]).status_code == 200

    return case, lead


def test_the_hotline_sees_the_outcome_of_a_follow_up(caller, clock):
    """State, outcome and when, beside the acknowledgement against the target;
    the other referrals of the case are untouched."""
    case, lead = filed_and_acknowledged(caller, clock)
    clock.advance(days=2)
    assert follow_up(caller, lead, outcome="referred_onward").status_code == 200

    seen = referrals_seen(caller)

    referral = seen[lead["id"]]
    assert referral["state"] == "follow_up_reported"
    assert referral["outcome"] == "referred_onward"
    assert referral["follow_up_at"] == "2026-12-03T14:00:00+00:00"
    assert referral["acknowledged_at"] == "2026-12-01T14:00:00+00:00"
    assert referral["acknowledged_within_target"] is True
    assert referral["closed_at"] is None
    others = [r for r in seen.values() if r["id"] != lead["id"]]
    assert len(others) == len(case["referrals"]) - 1 >= 1
    assert {(r["state"], r["outcome"]) for r in others} == {("routed", None)}


def test_the_hotline_sees_the_latest_outcome_and_the_closure(caller, clock):
    """A later, final follow-up replaces the outcome and closes the referral."""
    _, lead = filed_and_acknowledged(caller, clock)
    assert follow_up(caller, lead, outcome="investigation_opened").status_code == 200
    clock.advance(days=10)
    closed = follow_up(caller, lead, outcome="victim_support_provided", final=True)
    assert closed.status_code == 200

    referral = referrals_seen(caller)[lead["id"]]

    assert (referral["state"], referral["outcome"]) == (
        "closed",
        "victim_support_provided",
    )
    assert referral["closed_at"] == "2026-12-11T14:00:00+00:00"


def test_the_hotline_never_sees_the_note(caller, clock):
    """The note is for the network: not in the hotline's view."""
    _, lead = filed_and_acknowledged(caller, clock)
    noted = follow_up(
        caller, lead, outcome="no_action", note="Synthetic note, private."
    )
    assert noted.status_code == 200

    response = caller.follow(HOTLINE, "TEST-0001")

    assert response.get_json()["referrals"]
    assert "Synthetic note" not in response.get_data(as_text=True)
