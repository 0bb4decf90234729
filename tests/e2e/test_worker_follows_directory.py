"""The delivery worker serves contact points added while it runs."""

from __future__ import annotations

import json

from sqlalchemy import select

from contracts.sealing import new_encryption_key_pair
from router.delivery.broker import Publisher
from router.directory import parse_directory, store_directory
from router.persistence.tables import audit_entries
from tests.e2e.conftest import wait_for


def test_a_contact_point_added_later_is_served_without_a_restart(running, clock):
    """Its queue is consumed once the directory says it exists."""
    services = running.services
    document = parse_directory(
        {
            "synthetic": True,
            "contact_points": [
                {
                    "id": "cp-added-later",
                    "name": "Synthetic contact point added later",
                    "kind": "police",
                    "country": "TH",
                    "channel": "webhook",
                    "webhook_url": f"{running.receiver_url}/contact-points/x/referrals",
                    "encryption_key": new_encryption_key_pair()[1],
                    "verified_on": "2026-12-01",
                }
            ],
        }
    )
    with services.engine.begin() as connection:
        store_directory(connection, document, clock.now())
    services.directory.refresh()
    message = {
        "referral_id": "synthetic-referral-1",
        "contact_point_id": "cp-added-later",
    }
    publisher = Publisher(services.settings)

    publisher.publish(
        "cp-added-later", "synthetic-referral-1", json.dumps(message).encode()
    )

    def handled():
        with services.engine.connect() as connection:
            return connection.execute(
                select(audit_entries.c.action).where(
                    audit_entries.c.referral_id == "synthetic-referral-1"
                )
            ).first()

    assert wait_for(handled, timeout=30)
    publisher.close()
