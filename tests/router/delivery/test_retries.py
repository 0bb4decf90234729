"""Retry tiers and parking on the real RabbitMQ, with a scripted webhook."""

from __future__ import annotations

import json

from sqlalchemy import select

from router.delivery.parked import holding_depths, replay_parked
from router.persistence.tables import audit_entries, referrals
from tests.e2e.conftest import wait_for
from tests.factories import a_report


def file_report(caller, reference: str) -> list[dict]:
    answer = caller.file("hl-at-demo", a_report(reference))
    assert answer.status_code == 201, answer.text

    return answer.json["referrals"]


def delivery_statuses(services) -> dict[str, str]:
    query = select(referrals.c.id, referrals.c.delivery_status)
    with services.engine.connect() as connection:
        return dict(connection.execute(query).all())


def audit_actions(services, action: str) -> list[str]:
    query = select(audit_entries.c.referral_id).where(audit_entries.c.action == action)
    with services.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def stored(receiver, referral: dict) -> bool:
    inbox = receiver.inbox_root / referral["contact_point_id"]
    return (inbox / f"{referral['id']}.json").exists()


def test_a_webhook_answering_500_then_200_gets_the_referral_once(
    caller, services, receiver, worker, relay
):
    """The first call fails, a retry tier brings it back, the second lands."""
    routed = file_report(caller, "RETRY-0001")
    for referral in routed:
        receiver.fail(referral["id"], 500)

    relay()
    wait_for(lambda: set(delivery_statuses(services).values()) == {"delivered"})

    for referral in routed:
        assert receiver.calls[referral["id"]] == [500, 200]
        assert stored(receiver, referral)


def test_a_webhook_that_times_out_is_retried_through_a_tier_then_delivered(
    caller, services, settings, receiver, worker, relay
):
    """The first call outlasts `WEBHOOK_TIMEOUT`: the referral goes through a
    retry tier, the second call lands, and the receiver, which handled both,
    stores it once."""
    routed = file_report(caller, "TIMEOUT-0001")
    slow = routed[0]
    receiver.slow(slow["id"], settings.webhook_timeout + 1.0)

    relay()
    wait_for(lambda: set(delivery_statuses(services).values()) == {"delivered"})
    wait_for(lambda: len(receiver.calls[slow["id"]]) == 2)

    assert receiver.slowed[slow["id"]] == 1
    query = select(audit_entries.c.detail).where(
        audit_entries.c.action == "delivery_retrying",
        audit_entries.c.referral_id == slow["id"],
    )
    with services.engine.connect() as connection:
        retried = [json.loads(d) for d in connection.execute(query).scalars()]
    assert [(r["attempt"], r["reason"]) for r in retried] == [(1, "ReadTimeout")]
    assert audit_actions(services, "delivery_retrying") == [slow["id"]]
    inbox = receiver.inbox_root / slow["contact_point_id"]
    assert sorted(inbox.glob("*.json")) == [inbox / f"{slow['id']}.json"]


def test_a_retry_is_audited_with_its_attempt(caller, services, receiver, worker, relay):
    """Each trip through a retry tier leaves an audit entry, without content."""
    routed = file_report(caller, "RETRY-0002")
    for referral in routed:
        receiver.fail(referral["id"], 503)

    relay()
    wait_for(lambda: set(delivery_statuses(services).values()) == {"delivered"})

    retried = audit_actions(services, "delivery_retrying")
    assert sorted(retried) == sorted(r["id"] for r in routed)


def test_a_destination_down_past_every_tier_is_parked_and_alerted(
    caller, services, receiver, worker, relay, json_logs
):
    """After the last tier: parked queue, `delivery_parked` log and audit."""
    receiver.down = True
    routed = file_report(caller, "PARK-0001")

    relay()
    wait_for(lambda: set(delivery_statuses(services).values()) == {"parked"})

    settings = services.settings
    parked_queue = f"{settings.queue_prefix}.parked"
    wait_for(lambda: holding_depths(settings)[parked_queue] == len(routed))
    for referral in routed:
        assert receiver.calls[referral["id"]] == [503, 503, 503]
    assert sorted(audit_actions(services, "delivery_parked")) == sorted(
        r["id"] for r in routed
    )
    alerts = [
        json.loads(line)
        for line in json_logs.getvalue().splitlines()
        if '"delivery_parked"' in line
    ]
    assert {alert["referral_id"] for alert in alerts} == {r["id"] for r in routed}
    assert {alert["level"] for alert in alerts} == {"error"}


def test_a_replay_delivers_what_was_parked(caller, services, receiver, worker, relay):
    """Once the destination is back, replaying parked messages delivers them."""
    receiver.down = True
    routed = file_report(caller, "PARK-0002")
    relay()
    wait_for(lambda: set(delivery_statuses(services).values()) == {"parked"})
    settings = services.settings
    parked_queue = f"{settings.queue_prefix}.parked"
    wait_for(lambda: holding_depths(settings)[parked_queue] == len(routed))
    receiver.down = False

    replayed = replay_parked(settings, services.engine, services.clock)
    wait_for(lambda: set(delivery_statuses(services).values()) == {"delivered"})

    assert replayed == len(routed)
    assert holding_depths(settings)[parked_queue] == 0
    for referral in routed:
        assert stored(receiver, referral)
        assert receiver.calls[referral["id"]][-1] == 200


def test_a_permanent_refusal_is_parked_without_retries(
    caller, services, receiver, worker, relay
):
    """A 4xx is not retried: the message goes straight to the parked queue."""
    routed = file_report(caller, "PARK-0003")
    for referral in routed:
        receiver.fail(referral["id"], 410)

    relay()
    wait_for(lambda: set(delivery_statuses(services).values()) == {"parked"})

    for referral in routed:
        assert receiver.calls[referral["id"]] == [410]
