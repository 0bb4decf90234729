"""Unroutable messages on the real RabbitMQ: the alert, the status, the replay.

A message that no contact point's queue takes goes to the alternate exchange;
the worker raises the alert from its copy in `<prefix>.unroutable.alerts`,
and `broker replay-parked` sends it on, unless the contact point it names is
unknown: then no queue is declared for it and the message stays.
"""

from __future__ import annotations

import json

import pika
import pytest
from kombu import Connection
from pika.exceptions import ChannelClosedByBroker
from sqlalchemy import select

from router.delivery.broker import topology_for
from router.delivery.parked import holding_depths
from router.persistence.tables import audit_entries, outbox, referrals
from tests.e2e.conftest import wait_for
from tests.factories import a_report
from tests.router.delivery.conftest import run_cli
from tests.services import RABBITMQ_URL

LOGGED_KEYS = {"event", "level", "timestamp", "referral_id", "contact_point_id"}


def first_outbox_row(caller, services, reference: str):
    answer = caller.file("hl-at-demo", a_report(reference))
    assert answer.status_code == 201, answer.text
    query = select(
        outbox.c.referral_id, outbox.c.contact_point_id, outbox.c.payload
    ).order_by(outbox.c.id)
    with services.engine.connect() as connection:
        return connection.execute(query).first()


def publish_unroutable(settings, body: bytes, routing_key: str) -> None:
    """Publish, confirmed, under a routing key that no queue is bound for."""
    topology = topology_for(settings)
    with Connection(RABBITMQ_URL) as connection:
        topology.declare_holding(connection.default_channel)
        topology.referrals.bind(connection.default_channel).declare()
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        f"{settings.queue_prefix}.referrals",
        routing_key,
        body,
        pika.BasicProperties(content_type="application/json", delivery_mode=2),
    )
    connection.close()


def delivery_status(services, referral_id: str) -> str:
    query = select(referrals.c.delivery_status).where(referrals.c.id == referral_id)
    with services.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def audit_of(services, action: str) -> list[tuple[str, dict]]:
    query = select(audit_entries.c.referral_id, audit_entries.c.detail).where(
        audit_entries.c.action == action
    )
    with services.engine.connect() as connection:
        return [
            (referral_id, json.loads(detail))
            for referral_id, detail in connection.execute(query)
        ]


def log_lines(json_logs, event: str) -> list[dict]:
    lines = (json.loads(line) for line in json_logs.getvalue().splitlines())

    return [line for line in lines if line.get("event") == event]


def test_an_unroutable_message_raises_the_alert_and_a_replay_delivers_it(
    caller, services, settings, receiver, worker, json_logs
):
    """Alert with ids only, status parked, shown by `broker status`; replayed
    to the contact point its message names, then delivered."""
    row = first_outbox_row(caller, services, "UNROUTABLE-0001")
    unroutable_queue = f"{settings.queue_prefix}.unroutable"

    publish_unroutable(settings, bytes(row.payload), routing_key="cp-unbound")
    wait_for(lambda: delivery_status(services, row.referral_id) == "parked")

    alerts = log_lines(json_logs, "delivery_unroutable")
    assert len(alerts) == 1
    assert alerts[0]["level"] == "error"
    assert alerts[0]["referral_id"] == row.referral_id
    assert alerts[0]["contact_point_id"] == row.contact_point_id
    assert set(alerts[0]) <= LOGGED_KEYS | {"queue"}
    assert audit_of(services, "delivery_unroutable") == [
        (
            row.referral_id,
            {"contact_point_id": row.contact_point_id, "queue": unroutable_queue},
        )
    ]
    # The alert's copy is consumed; the message itself waits.
    assert holding_depths(settings)[unroutable_queue] == 1

    status = run_cli(settings, "broker", "status")

    assert status.exit_code == 0, status.output
    assert f"{'queue ' + unroutable_queue:<32} 1" in status.output
    assert f"{'referrals parked, unroutable':<32} 1" in status.output
    assert (
        f"parked  {row.referral_id}  {row.contact_point_id}  unroutable"
        in status.output.splitlines()
    )

    replay = run_cli(settings, "broker", "replay-parked")

    assert replay.exit_code == 0, replay.output
    assert replay.output.splitlines()[0] == "replayed 1 parked referrals"
    wait_for(lambda: delivery_status(services, row.referral_id) == "delivered")
    assert holding_depths(settings)[unroutable_queue] == 0
    stored = receiver.inbox_root / row.contact_point_id / f"{row.referral_id}.json"
    assert stored.exists()
    after = run_cli(settings, "broker", "status")
    assert f"{'referrals parked, unroutable':<32} 0" in after.output


def test_a_replay_declares_no_queue_for_an_unknown_contact_point(
    caller, services, settings, receiver, worker, json_logs
):
    """The message stays in the unroutable queue, no queue is made for the
    contact point it names, and the replay says it kept one."""
    row = first_outbox_row(caller, services, "UNROUTABLE-0002")
    body = json.dumps(
        {"referral_id": row.referral_id, "contact_point_id": "cp-nowhere"}
    ).encode()
    unroutable_queue = f"{settings.queue_prefix}.unroutable"
    publish_unroutable(settings, body, routing_key="cp-nowhere")
    wait_for(lambda: delivery_status(services, row.referral_id) == "parked")
    assert [
        a["contact_point_id"] for a in log_lines(json_logs, "delivery_unroutable")
    ] == ["cp-nowhere"]

    replay = run_cli(settings, "broker", "replay-parked")

    assert replay.exit_code == 0, replay.output
    lines = replay.output.splitlines()
    assert "replayed 0 parked referrals" in lines
    assert any(line.startswith("kept 1 in place") for line in lines)
    assert '"parked_message_unknown_contact_point"' in replay.output
    assert holding_depths(settings)[unroutable_queue] == 1
    assert delivery_status(services, row.referral_id) == "parked"
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    with pytest.raises(ChannelClosedByBroker) as missing:
        connection.channel().queue_declare(
            f"{settings.queue_prefix}.referrals.cp-nowhere", passive=True
        )
    assert missing.value.reply_code == 404
    connection.close()


def test_an_unreadable_unroutable_message_is_alerted_without_its_body(
    services, settings, worker, json_logs
):
    """A message that names no referral: an error line, and nothing from it."""
    publish_unroutable(settings, b"SYNTHETIC not json", routing_key="cp-nowhere")

    wait_for(lambda: log_lines(json_logs, "delivery_unroutable_unreadable"))

    line = log_lines(json_logs, "delivery_unroutable_unreadable")[0]
    assert line["level"] == "error"
    assert "SYNTHETIC" not in json_logs.getvalue()
    assert audit_of(services, "delivery_unroutable") == []
    queue = f"{settings.queue_prefix}.unroutable"
    assert holding_depths(settings)[queue] == 1


def test_a_message_logs_no_id_of_the_message_before(
    caller, services, settings, worker, json_logs
):
    """Each message starts a log context of its own: an unreadable message
    after a readable one is logged without the first one's referral id."""
    row = first_outbox_row(caller, services, "UNROUTABLE-0003")
    publish_unroutable(settings, bytes(row.payload), routing_key="cp-unbound")
    wait_for(lambda: log_lines(json_logs, "delivery_unroutable"))

    publish_unroutable(settings, b"SYNTHETIC not json", routing_key="cp-nowhere")
    wait_for(lambda: log_lines(json_logs, "delivery_unroutable_unreadable"))

    (first,) = log_lines(json_logs, "delivery_unroutable")
    (second,) = log_lines(json_logs, "delivery_unroutable_unreadable")
    assert first["referral_id"] == row.referral_id
    assert "referral_id" not in second
