"""The receiver kit on the real RabbitMQ: manual acks, each referral once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from connectors.inbox import Inbox
from connectors.receiver_kit import ReceiverKit, report_follow_up
from contracts.sealing import new_encryption_key_pair, public_key_from_text, seal
from router.config import load_settings
from router.delivery.broker import Publisher, Topology
from tests.services import RABBITMQ_URL, check_rabbitmq, delete_rabbitmq_topology

CONTACT_POINT = "cp-kit-test"


class Crash(Exception):
    """Stands for the receiver process dying."""


@pytest.fixture
def broker():
    check_rabbitmq()
    prefix = f"rrtest-{uuid.uuid4().hex[:8]}"
    settings = load_settings(environ={}, broker_url=RABBITMQ_URL, queue_prefix=prefix)
    publisher = Publisher(settings)
    yield settings, publisher
    publisher.close()
    delete_rabbitmq_topology(prefix, [CONTACT_POINT])


@pytest.fixture
def keys():
    return new_encryption_key_pair()


def publish_referral(publisher, public_key: str, referral_id: str) -> None:
    message = {
        "protocol": "1",
        "referral_id": referral_id,
        "case_id": "case-synthetic",
        "contact_point_id": CONTACT_POINT,
        "role": "lead",
        "routed_at": "2026-12-01T09:00:00+00:00",
        "ack_due_at": "2026-12-03T09:00:00+00:00",
        "content": seal(
            public_key_from_text(public_key), {"report": {"narrative": "SYNTHETIC"}}
        ),
    }
    publisher.publish(CONTACT_POINT, referral_id, json.dumps(message).encode())


def kit_for(settings, private_key: str, inbox: Inbox) -> ReceiverKit:
    queue = Topology(settings.queue_prefix).contact_point_queue(CONTACT_POINT)

    return ReceiverKit(RABBITMQ_URL, queue.name, private_key, inbox)


def test_the_kit_opens_and_stores_a_referral(broker, keys, tmp_path):
    """A message is opened with the private key and written to the inbox."""
    settings, publisher = broker
    private, public = keys
    inbox = Inbox(tmp_path / "inbox")
    publish_referral(publisher, public, "ref-1")

    handled = kit_for(settings, private, inbox).consume(max_messages=1, idle_timeout=5)

    assert handled == 1
    assert inbox.read("ref-1")["content"] == {"report": {"narrative": "SYNTHETIC"}}


def test_a_kit_killed_before_its_ack_gets_the_message_again_and_writes_once(
    broker, keys, tmp_path
):
    """Written, then killed before the ack: redelivered, and still stored once."""
    settings, publisher = broker
    private, public = keys
    inbox = Inbox(tmp_path / "inbox")
    publish_referral(publisher, public, "ref-2")
    dying = kit_for(settings, private, inbox)
    original_handle = dying.handle

    def handle_then_die(channel, method, properties, body):
        channel.basic_ack = lambda *_args, **_kw: (_ for _ in ()).throw(Crash())
        original_handle(channel, method, properties, body)

    dying.handle = handle_then_die
    with pytest.raises(Crash):
        dying.consume(max_messages=1, idle_timeout=5)
    assert inbox.referral_ids() == ["ref-2"]

    again = kit_for(settings, private, inbox).consume(max_messages=1, idle_timeout=5)

    assert again == 1
    assert inbox.referral_ids() == ["ref-2"]


def test_an_unreadable_message_is_rejected_not_looped(broker, keys, tmp_path):
    """A message sealed to another key is rejected once and never stored."""
    settings, publisher = broker
    _, public = keys
    other_private, _ = new_encryption_key_pair()
    inbox = Inbox(tmp_path / "inbox")
    publish_referral(publisher, public, "ref-3")

    first = kit_for(settings, other_private, inbox).consume(
        max_messages=5, idle_timeout=2
    )

    assert first == 1
    assert inbox.referral_ids() == []


class Acknowledger:
    """Stands for the router's signed API: records calls, answers as told."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    def __call__(self, referral_id: str) -> bool:
        self.calls.append(referral_id)
        return self.answers.pop(0) if self.answers else True


def test_the_kit_acknowledges_over_the_api_once_stored(broker, keys, tmp_path):
    """Written, then acknowledged to the router, then acked to the broker."""
    settings, publisher = broker
    private, public = keys
    inbox = Inbox(tmp_path / "inbox")
    acknowledger = Acknowledger()
    publish_referral(publisher, public, "ref-4")
    queue = Topology(settings.queue_prefix).contact_point_queue(CONTACT_POINT)
    kit = ReceiverKit(
        RABBITMQ_URL, queue.name, private, inbox, acknowledge=acknowledger
    )

    kit.consume(max_messages=1, idle_timeout=5)

    assert acknowledger.calls == ["ref-4"]
    assert inbox.referral_ids() == ["ref-4"]


def test_a_failed_api_acknowledgement_returns_the_message_to_the_queue(
    broker, keys, tmp_path
):
    """The broker keeps the message until the router has the acknowledgement."""
    settings, publisher = broker
    private, public = keys
    inbox = Inbox(tmp_path / "inbox")
    acknowledger = Acknowledger(False, True)
    publish_referral(publisher, public, "ref-5")
    queue = Topology(settings.queue_prefix).contact_point_queue(CONTACT_POINT)
    kit = ReceiverKit(
        RABBITMQ_URL, queue.name, private, inbox, acknowledge=acknowledger
    )

    handled = kit.consume(max_messages=2, idle_timeout=5)

    assert handled == 2
    assert acknowledger.calls == ["ref-5", "ref-5"]
    assert inbox.referral_ids() == ["ref-5"]


DYING_KIT = """
import os, signal, sys
from connectors.inbox import Inbox
from connectors.receiver_kit import ReceiverKit, report_follow_up

class DyingInbox(Inbox):
    def write_once(self, referral_id, record):
        stored = super().write_once(referral_id, record)
        os.kill(os.getpid(), signal.SIGKILL)
        return stored

url, queue, folder = sys.argv[1:4]
kit = ReceiverKit(url, queue, os.environ["KIT_PRIVATE_KEY"], DyingInbox(folder))
kit.consume(max_messages=1, idle_timeout=10)
"""


def test_a_kit_process_killed_after_writing_gets_the_message_again(
    broker, keys, tmp_path
):
    """SIGKILL between the write and the ack: redelivered, stored once."""
    settings, publisher = broker
    private, public = keys
    folder = tmp_path / "inbox"
    publish_referral(publisher, public, "ref-6")
    queue = Topology(settings.queue_prefix).contact_point_queue(CONTACT_POINT)
    root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ, KIT_PRIVATE_KEY=private, PYTHONPATH=root)
    died = subprocess.run(
        [sys.executable, "-c", DYING_KIT, RABBITMQ_URL, queue.name, str(folder)],
        env=environment,
        timeout=60,
        check=False,
    )
    assert died.returncode == -signal.SIGKILL
    assert Inbox(folder).referral_ids() == ["ref-6"]
    written = Inbox(folder).path_of("ref-6").stat()

    again = kit_for(settings, private, Inbox(folder)).consume(
        max_messages=1, idle_timeout=5
    )

    assert again == 1
    assert Inbox(folder).referral_ids() == ["ref-6"]
    # Found there, not written again: the same file, untouched.
    kept = Inbox(folder).path_of("ref-6").stat()
    assert (kept.st_ino, kept.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


class FollowUpClient:
    """Stands for `SignedClient`: records follow-ups, answers 200."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def report_follow_up(self, referral_id, outcome, *, note=None, final=False):
        self.calls.append((referral_id, outcome, note, final))
        response = requests.Response()
        response.status_code = 200

        return response


def stored_inbox(tmp_path, *referral_ids: str) -> Inbox:
    inbox = Inbox(tmp_path / "inbox")
    for referral_id in referral_ids:
        inbox.write_once(referral_id, {"referral_id": referral_id, "content": {}})

    return inbox


def test_a_follow_up_for_a_stored_referral_goes_to_the_router(tmp_path):
    """Outcome, note and finality are passed to the signed API as given."""
    client = FollowUpClient()
    inbox = stored_inbox(tmp_path, "ref-7")

    response = report_follow_up(
        client, inbox, "ref-7", "referred_onward", note="Synthetic.", final=True
    )

    assert response.status_code == 200
    assert client.calls == [("ref-7", "referred_onward", "Synthetic.", True)]


def test_a_follow_up_for_a_referral_not_received_is_not_sent(tmp_path):
    """The kit reports only on referrals its inbox holds."""
    client = FollowUpClient()
    inbox = stored_inbox(tmp_path, "ref-8")

    with pytest.raises(LookupError):
        report_follow_up(client, inbox, "ref-9", "no_action")

    assert client.calls == []


@pytest.mark.parametrize("outcome", ["arrested", "", "No_Action"])
def test_an_outcome_outside_the_vocabulary_is_not_sent(tmp_path, outcome):
    """Only the fixed vocabulary of `contracts.referrals.OUTCOMES` is sent."""
    client = FollowUpClient()
    inbox = stored_inbox(tmp_path, "ref-10")

    with pytest.raises(ValueError, match="investigation_opened"):
        report_follow_up(client, inbox, "ref-10", outcome)

    assert client.calls == []
