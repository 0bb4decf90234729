"""The receiver kit against a running router on RabbitMQ: it stores each
referral, acknowledges it over the signed API, and reports the follow-up, in
Python and on the command line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connectors.inbox import Inbox
from connectors.receiver_kit import ReceiverKit, report_follow_up, signed_acknowledger
from contracts.signed_calls import private_key_pem
from router.cli import main
from router.clock import ManualClock
from router.delivery.broker import Topology
from router.demo import DEMO_KID
from router.persistence.tables import follow_ups
from tests.e2e.conftest import wait_for
from tests.factories import a_single_referral_report
from tests.services import RABBITMQ_URL

POLICE = "cp-th-police"


@pytest.fixture
def backend():
    """The kit reads RabbitMQ: the production-like backend only."""
    return "production"


@pytest.fixture
def clock():
    """The command line signs with the wall clock, so the router starts from it."""
    return ManualClock(datetime.now(UTC))


@pytest.fixture
def received(running, client_for, e2e_parties, tmp_path):
    """A report filed to the Thai police alone, read from its queue by the kit
    (the worker stopped, so that only the kit consumes), stored and
    acknowledged over the signed API. Returns the case and the kit's inbox."""
    worker = next(thread for thread in running.threads if thread.name == "worker")
    running.worker.should_stop = True
    wait_for(lambda: not worker.is_alive())
    case = client_for("hl-at-demo").file_report(a_single_referral_report()).json()
    queue = Topology(running.services.settings.queue_prefix).contact_point_queue(POLICE)
    inbox = Inbox(tmp_path / "inbox")
    kit = ReceiverKit(
        RABBITMQ_URL,
        queue.name,
        e2e_parties[POLICE].encryption_private_key,
        inbox,
        acknowledge=signed_acknowledger(client_for(POLICE)),
    )

    handled = wait_for(lambda: kit.consume(max_messages=1, idle_timeout=1))

    assert handled == 1
    assert inbox.referral_ids() == [case["referrals"][0]["id"]]

    return case, inbox


def hotline_view(client_for, case) -> dict:
    followed = client_for("hl-at-demo").follow_report(case["reference"]).json()

    return followed["referrals"][0]


def test_the_kit_acknowledges_and_reports_follow_up_over_the_signed_api(
    received, client_for
):
    """Stored once, acknowledged within target, then a final follow-up."""
    case, inbox = received
    lead = case["referrals"][0]

    closed = report_follow_up(
        client_for(POLICE), inbox, lead["id"], "investigation_opened", final=True
    )

    referral = hotline_view(client_for, case)
    assert inbox.read(lead["id"])["content"]["report"]
    assert closed.status_code == 200
    assert referral["acknowledged_within_target"] is True
    assert (referral["state"], referral["outcome"]) == (
        "closed",
        "investigation_opened",
    )


@pytest.fixture
def kit_command(received, running, e2e_parties, tmp_path):
    """`referral-router receiver-follow-up ARGUMENTS` as the Thai police."""
    _, inbox = received
    key_file = tmp_path / "police.pem"
    key_file.write_bytes(private_key_pem(e2e_parties[POLICE].signing_key))
    settings = running.services.settings
    environment = {
        "ROUTER_INSTANCE_DIR": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "LOG_LEVEL": "WARNING",
    }
    identity = ["--inbox", str(inbox.folder), "--as", POLICE, "--key", str(key_file)]
    identity += ["--kid", DEMO_KID, "--router-url", running.url]

    def invoke(*arguments: str):
        command = ["receiver-follow-up", *arguments, *identity]

        return CliRunner().invoke(main, command, env=environment)

    return invoke


def test_the_kit_command_reports_a_follow_up_with_its_note(
    received, kit_command, running, client_for, tmp_path
):
    """`receiver-follow-up` signs the outcome and the note read from a file."""
    case, _ = received
    lead = case["referrals"][0]
    note_file = tmp_path / "note.txt"
    note_file.write_text("Synthetic note from the kit.\n")

    reported = kit_command(
        lead["id"], "victim_support_provided", "--note-file", str(note_file)
    )

    assert reported.exit_code == 0, reported.output
    assert reported.stdout == (
        f"{lead['id']}: follow_up_reported, victim_support_provided\n"
    )
    referral = hotline_view(client_for, case)
    assert (referral["state"], referral["outcome"]) == (
        "follow_up_reported",
        "victim_support_provided",
    )
    with running.services.engine.connect() as connection:
        stored = connection.execute(
            select(follow_ups.c.outcome, follow_ups.c.note).where(
                follow_ups.c.referral_id == lead["id"]
            )
        ).all()
    assert [
        (outcome, running.services.content_keys.decrypt(note))
        for outcome, note in stored
    ] == [("victim_support_provided", b"Synthetic note from the kit.")]


def test_the_kit_command_refuses_what_it_cannot_send(received, kit_command, client_for):
    """A referral the inbox lacks, or an outcome outside the vocabulary, is
    refused before any call; the referral is left as it was."""
    case, _ = received
    lead = case["referrals"][0]

    not_received = kit_command("ref-never-received", "no_action")
    unknown = kit_command(lead["id"], "arrested")

    assert (not_received.exit_code, unknown.exit_code) == (1, 2)
    assert "holds no such referral" in not_received.output
    assert "investigation_opened" in unknown.output
    referral = hotline_view(client_for, case)
    assert (referral["state"], referral["outcome"]) == ("acknowledged", None)


def test_the_kit_command_passes_on_the_routers_refusal(
    received, kit_command, client_for
):
    """A follow-up after the referral is closed is refused, and says why."""
    case, inbox = received
    lead = case["referrals"][0]
    report_follow_up(client_for(POLICE), inbox, lead["id"], "no_action", final=True)

    refused = kit_command(lead["id"], "content_removed")

    assert refused.exit_code == 1
    assert "HTTP 409" in refused.output
    assert "closed" in refused.output
    assert hotline_view(client_for, case)["outcome"] == "no_action"
