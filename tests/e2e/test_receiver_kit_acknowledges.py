"""The receiver kit against a running router on RabbitMQ: it stores each
referral, acknowledges it over the signed API, and can report the follow-up."""

from __future__ import annotations

import pytest

from connectors.inbox import Inbox
from connectors.receiver_kit import ReceiverKit, signed_acknowledger
from router.delivery.broker import Topology
from tests.e2e.conftest import wait_for
from tests.factories import a_single_referral_report
from tests.services import RABBITMQ_URL


@pytest.fixture
def backend():
    """The kit reads RabbitMQ: the production-like backend only."""
    return "production"


def test_the_kit_acknowledges_and_reports_follow_up_over_the_signed_api(
    running, client_for, e2e_parties, tmp_path
):
    """Stored once, acknowledged within target, then a final follow-up."""
    worker = next(thread for thread in running.threads if thread.name == "worker")
    running.worker.should_stop = True
    wait_for(lambda: not worker.is_alive())
    case = client_for("hl-at-demo").file_report(a_single_referral_report()).json()
    lead = case["referrals"][0]
    police = client_for("cp-th-police")
    queue = Topology(running.services.settings.queue_prefix).contact_point_queue(
        "cp-th-police"
    )
    kit = ReceiverKit(
        RABBITMQ_URL,
        queue.name,
        e2e_parties["cp-th-police"].encryption_private_key,
        Inbox(tmp_path / "inbox"),
        acknowledge=signed_acknowledger(police),
    )

    handled = wait_for(lambda: kit.consume(max_messages=1, idle_timeout=1))
    closed = police.report_follow_up(lead["id"], "investigation_opened", final=True)

    followed = client_for("hl-at-demo").follow_report(case["reference"]).json()
    referral = followed["referrals"][0]
    assert handled == 1
    assert Inbox(tmp_path / "inbox").read(lead["id"])["content"]["report"]
    assert closed.status_code == 200
    assert referral["acknowledged_within_target"] is True
    assert (referral["state"], referral["outcome"]) == (
        "closed",
        "investigation_opened",
    )
