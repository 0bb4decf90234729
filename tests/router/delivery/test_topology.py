"""The topology on the real RabbitMQ: definitions, permissions, unroutables."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pika
import pytest
from pika.exceptions import ChannelClosedByBroker, ProbableAuthenticationError

from router.config import Settings
from router.delivery.broker import Publisher, Topology, topology_for
from router.delivery.definitions import definitions, directory_contact_points
from tests.services import RABBITMQ_URL, check_rabbitmq, delete_rabbitmq_topology

ROOT = Path(__file__).resolve().parents[3]
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
PASSWORD = "synthetic-test-password"


def rabbitmqctl(*arguments: str) -> None:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


def test_the_committed_definitions_are_current():
    """`referral-router broker definitions` has been run after the last change."""
    generated = definitions(topology_for(Settings()), directory_contact_points())

    committed = json.loads(DEFINITIONS.read_text())

    assert committed == json.loads(json.dumps(generated))


def test_a_contact_point_user_may_only_read_its_own_queue():
    """Its permissions: configure nothing, write nothing, read one queue."""
    document = definitions(Topology("rr", (10.0,)), ["cp-a", "cp-b"])

    permissions = {entry["user"]: entry for entry in document["permissions"]}

    assert permissions["cp-a"]["configure"] == "^$"
    assert permissions["cp-a"]["write"] == "^$"
    assert permissions["cp-a"]["read"] == r"^rr\.referrals\.cp-a$"


@pytest.fixture(scope="module")
def imported():
    """Definitions for two fresh contact points, imported into the broker."""
    check_rabbitmq()
    tag = uuid.uuid4().hex[:8]
    prefix = f"rrtest-{tag}"
    points = [f"cp-{tag}-a", f"cp-{tag}-b"]
    router_user = f"rrtest-{tag}-router"
    document = definitions(Topology(prefix, (0.05,)), points, router_user=router_user)
    document.pop("vhosts")
    # The broker runs as its own user, which cannot read pytest's private
    # temporary folders (and 3.10 reads no definitions from stdin).
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(document, handle)
        handle.flush()
        os.chmod(handle.name, 0o644)
        rabbitmqctl("import_definitions", handle.name)
    rabbitmqctl("change_password", points[0], PASSWORD)
    yield prefix, points
    for user in (*points, router_user):
        rabbitmqctl("delete_user", user)
    delete_rabbitmq_topology(prefix, points, (0.05,))


def connect_as(user: str, password: str = PASSWORD):
    parameters = pika.URLParameters(RABBITMQ_URL)
    parameters.credentials = pika.PlainCredentials(user, password)

    return pika.BlockingConnection(parameters)


def test_a_contact_point_reads_its_own_queue_on_the_broker(imported):
    """The imported user can read the queue named for it."""
    prefix, (own, _) = imported
    connection = connect_as(own)

    method, _, _ = connection.channel().basic_get(f"{prefix}.referrals.{own}")

    assert method is None
    connection.close()


def test_a_contact_point_cannot_read_another_queue_on_the_broker(imported):
    """Reading another contact point's queue is refused with ACCESS_REFUSED."""
    prefix, (own, other) = imported
    connection = connect_as(own)
    channel = connection.channel()

    with pytest.raises(ChannelClosedByBroker) as refused:
        channel.basic_get(f"{prefix}.referrals.{other}")

    assert refused.value.reply_code == 403
    assert "ACCESS_REFUSED" in refused.value.reply_text
    connection.close()


def test_a_shipped_user_cannot_log_in_before_its_password_is_set(imported):
    """The placeholder hash is no password at all, not an empty one."""
    _, (_, other) = imported

    with pytest.raises(ProbableAuthenticationError):
        connect_as(other, password="")


@pytest.fixture
def broker_settings():
    check_rabbitmq()
    prefix = f"rrtest-{uuid.uuid4().hex[:8]}"
    settings = Settings(broker_url=RABBITMQ_URL, queue_prefix=prefix)
    yield settings
    delete_rabbitmq_topology(prefix, ["cp-known"], settings.retry_delays)


def test_an_unroutable_publish_is_parked_not_dropped(broker_settings):
    """A message for a contact point without a queue lands in the unroutable queue."""
    publisher = Publisher(broker_settings)
    publisher.publish("cp-known", "ref-known", b'{"referral_id": "ref-known"}')
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.confirm_delivery()

    channel.basic_publish(
        f"{broker_settings.queue_prefix}.referrals",
        "cp-nowhere",
        b'{"referral_id": "ref-lost", "contact_point_id": "cp-nowhere"}',
    )

    method, _, body = channel.basic_get(
        f"{broker_settings.queue_prefix}.unroutable", auto_ack=True
    )
    assert method is not None
    assert json.loads(body)["referral_id"] == "ref-lost"
    connection.close()
    publisher.close()


def test_the_cli_prints_the_committed_definitions():
    """`referral-router broker definitions` writes the file under deploy/."""
    from click.testing import CliRunner

    from router.cli import main

    result = CliRunner().invoke(
        main, ["broker", "definitions"], env={"QUEUE_PREFIX": "rr", "RETRY_DELAYS": ""}
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(DEFINITIONS.read_text())
