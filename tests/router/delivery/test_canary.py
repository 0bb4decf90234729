"""A canary planted in a report never travels in plaintext, and only its
receiver's key opens it."""

from __future__ import annotations

import json

import pytest
from kombu import Connection
from sqlalchemy import select

from contracts.sealing import SealedContentError, open_sealed
from router.persistence.tables import cases, outbox, referrals
from tests.e2e.conftest import wait_for
from tests.factories import a_report
from tests.services import RABBITMQ_URL

CANARY = "SYNTHETIC-CANARY-c4n4ry"


def canary_report(reference: str) -> dict:
    report = a_report(
        reference,
        narrative=f"{CANARY} narrative",
        incident={"country": "TH", "place": f"{CANARY} place"},
        online={"urls": [f"https://example.org/{CANARY}"]},
    )
    report["suspects"][0]["description"] = f"{CANARY} description"

    return report


def parked_messages(settings) -> list[bytes]:
    """Bodies and headers of every message in the parked queue, as bytes."""
    found = []
    with Connection(RABBITMQ_URL) as connection:
        channel = connection.default_channel
        name = f"{settings.queue_prefix}.parked"
        while (message := channel.basic_get(name, no_ack=True)) is not None:
            headers = json.dumps(message.headers or {}, default=str).encode()
            body = message.body
            body = body.encode() if isinstance(body, str) else bytes(body)
            found.append(body + headers)

    return found


def test_a_canary_stays_out_of_broker_dead_letters_webhooks_logs_and_storage(
    json_logs, caller, services, receiver, worker, relay
):
    """Published, retried, refused and parked: the canary is never plaintext."""
    receiver.down = True
    answer = caller.file("hl-at-demo", canary_report("CANARY-0001"))
    assert answer.status_code == 201

    relay()
    wait_for(
        lambda: {row for (row,) in _statuses(services)} == {"parked"},
    )

    canary = CANARY.encode()
    with services.engine.connect() as connection:
        published = list(connection.execute(select(outbox.c.payload)).scalars())
        stored = list(connection.execute(select(cases.c.content)).scalars())
    parked = parked_messages(services.settings)
    assert len(parked) == len(published)
    assert receiver.bodies
    assert all(canary not in bytes(body) for body in published)
    assert all(canary not in body for body in parked)
    assert all(canary not in body for body in receiver.bodies)
    assert all(CANARY not in content for content in stored)
    assert CANARY not in json_logs.getvalue()


def _statuses(services):
    with services.engine.connect() as connection:
        return connection.execute(select(referrals.c.delivery_status)).all()


def test_only_the_addressed_contact_point_opens_the_canary(caller, services, parties):
    """Its own key opens the referral; another contact point's key cannot."""
    answer = caller.file("hl-at-demo", canary_report("CANARY-0002"))
    referral = answer.json["referrals"][0]
    with services.engine.connect() as connection:
        payload = connection.execute(
            select(outbox.c.payload).where(outbox.c.referral_id == referral["id"])
        ).scalar_one()
    sealed = json.loads(payload)["content"]
    own = parties[referral["contact_point_id"]].encryption_private_key
    other = next(
        party.encryption_private_key
        for party in parties.values()
        if party.kind == "contact_point"
        and party.party_id != referral["contact_point_id"]
    )

    opened = open_sealed(own, sealed)

    assert CANARY in opened["report"]["narrative"]
    with pytest.raises(SealedContentError):
        open_sealed(other, sealed)
