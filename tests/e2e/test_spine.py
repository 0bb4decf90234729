"""The whole path, over HTTP, on both backends: a signed report travels to its
contact points, sealed; they acknowledge; the hotline sees it within target."""

from __future__ import annotations

from routing_rules import minimise
from tests.e2e.conftest import wait_for
from tests.factories import SYNTHETIC, a_report

HOTLINE = "hl-at-demo"


def test_a_report_is_routed_delivered_and_acknowledged(
    running, client_for, clock, e2e_parties
):
    """Intake, relay, broker, webhook, sealed content, acknowledgement, follow."""
    report = a_report("E2E-0001")
    filed = client_for(HOTLINE).file_report(report)
    assert filed.status_code == 201, filed.text
    case = filed.json()
    inbox_root = running.inbox_dir

    def delivered_everywhere():
        return all(
            (inbox_root / r["contact_point_id"] / f"{r['id']}.json").exists()
            for r in case["referrals"]
        )

    wait_for(delivered_everywhere)
    clock.advance(hours=2)
    for referral in case["referrals"]:
        answer = client_for(referral["contact_point_id"]).acknowledge(referral["id"])
        assert answer.status_code == 200, answer.text

    followed = client_for(HOTLINE).follow_report("E2E-0001").json()
    assert {r["state"] for r in followed["referrals"]} == {"acknowledged"}
    assert all(r["acknowledged_within_target"] for r in followed["referrals"])
    assert all(r["delivered_at"] for r in followed["referrals"])


def test_each_contact_point_opens_only_its_part(running, client_for):
    """The inbox holds the minimised report, opened with the receiver's key."""
    report = a_report("E2E-0002", reporter={"consents_to_contact": True})
    case = client_for(HOTLINE).file_report(report).json()
    inbox_root = running.inbox_dir
    paths = {
        r["role"]: inbox_root / r["contact_point_id"] / f"{r['id']}.json"
        for r in case["referrals"]
    }
    wait_for(lambda: all(path.exists() for path in paths.values()))

    from connectors.inbox import Inbox

    lead = next(r for r in case["referrals"] if r["role"] == "lead")
    stored = Inbox(inbox_root / lead["contact_point_id"]).read(lead["id"])
    assert stored["content"]["report"]["narrative"] == SYNTHETIC
    assert stored["content"]["hotline_id"] == HOTLINE
    support = [r for r in case["referrals"] if r["role"] == "support"]
    assert support, "the demo rules give consenting reporters a support referral"
    for referral in support:
        opened = Inbox(inbox_root / referral["contact_point_id"]).read(referral["id"])
        assert "suspects" not in opened["content"]["report"]
        assert opened["content"]["report"] == minimise(
            report, frozenset(opened["content"]["report"])
        )


def test_the_router_reports_ready(running):
    """`/readyz` checks the database and the broker of each backend."""
    import requests

    answer = requests.get(f"{running.url}/readyz", timeout=5)

    assert answer.status_code == 200
    assert answer.json()["checks"] == {"database": True, "broker": True}
