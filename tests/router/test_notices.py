"""Notices take the first channel their recipient can receive."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes

from connectors.email_notice import EmailNoticeChannel
from contracts.sealing import new_encryption_key_pair
from router.directory import parse_directory, store_directory
from router.notices import Notice, NoticeSender


def a_reminder(recipient_id: str) -> Notice:
    return Notice(
        id=7,
        kind="reminder",
        referral_id="ref-synthetic-7",
        recipient_id=recipient_id,
        case_id="case-synthetic",
        contact_point_id=recipient_id,
        ack_due_at=datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
    )


def test_a_recipient_without_a_webhook_is_reminded_by_e_mail(smtp, services, clock):
    """A polling contact point with an address gets the reminder by e-mail."""
    mailbox, port = smtp
    document = parse_directory(
        {
            "contact_points": [
                {
                    "id": "cp-polling",
                    "name": "Synthetic polling contact point",
                    "kind": "police",
                    "country": "TH",
                    "channel": "pull",
                    "email": "desk@polling.example.org",
                    "encryption_key": new_encryption_key_pair()[1],
                    "verified_on": "2026-12-01",
                }
            ]
        }
    )
    with services.engine.begin() as connection:
        store_directory(connection, document, clock.now())
    services.directory.refresh()
    sender = NoticeSender(
        services.directory,
        webhook=None,
        email=EmailNoticeChannel("127.0.0.1", port, sender="router@example.org"),
    )

    sender.send(a_reminder("cp-polling"))

    mail = message_from_bytes(mailbox.messages[0])
    assert mail["To"] == "desk@polling.example.org"
    assert (
        mail["Subject"] == "Reminder: referral ref-synthetic-7 is not acknowledged yet"
    )
    assert "2026-12-03T09:00:00+00:00" in mail.get_payload()
