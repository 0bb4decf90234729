"""Without RabbitMQ (embedded mode), parked referrals replay from the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from router.delivery.parked import delivery_counts, replay_parked
from router.persistence.tables import audit_entries, outbox, referrals
from tests.conftest import CONTENT_KEYS
from tests.factories import a_report


@pytest.fixture
def settings(tmp_path, router_key_file):
    """The embedded backends: SQLite and the in-process transport."""
    from router.config import load_settings

    return load_settings(
        environ={},
        instance_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'router.db'}",
        signing_key_file=router_key_file,
        public_base_url="http://localhost",
        content_keys=CONTENT_KEYS,
    )


def test_replaying_in_embedded_mode_republishes_parked_rows_from_the_outbox(
    caller, services
):
    """The outbox row is unpublished again and the referral is queued."""
    caller.file("hl-at-demo", a_report("EMBEDDED-0001"))
    with services.engine.begin() as connection:
        connection.execute(update(outbox).values(published_at=services.clock.now()))
        connection.execute(update(referrals).values(delivery_status="parked"))

    replayed = replay_parked(services.settings, services.engine, services.clock)

    with services.engine.connect() as connection:
        waiting = connection.execute(
            select(outbox.c.id).where(outbox.c.published_at.is_(None))
        ).all()
        audited = connection.execute(
            select(audit_entries.c.id).where(
                audit_entries.c.action == "delivery_replayed"
            )
        ).all()
    assert replayed == len(waiting) == len(audited) > 0
    assert delivery_counts(services.engine)["parked"] == 0
