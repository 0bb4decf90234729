"""The e-mail notice channel against a real SMTP server started in process."""

from __future__ import annotations

import json
from email import message_from_bytes

import pytest

from connectors.base import Delivery
from connectors.email_notice import EmailNoticeChannel
from router.errors import PermanentFailure, RetryLater
from tests.conftest import free_port

CANARY = "SYNTHETIC-CANARY-mail"


def a_delivery(address: str | None = "cp@example.org") -> Delivery:
    message = {
        "referral_id": "ref-mail-1",
        "contact_point_id": "cp-mail",
        "ack_due_at": "2026-12-03T09:00:00+00:00",
        "content": {"alg": "x", "ciphertext": "c2VhbGVk"},
        "narrative": CANARY,
    }

    return Delivery("ref-mail-1", "cp-mail", address, json.dumps(message).encode())


def test_the_notice_names_the_referral_and_its_deadline(smtp):
    """The contact point learns which referral waits, and until when."""
    mailbox, port = smtp

    EmailNoticeChannel("127.0.0.1", port, sender="rr@example.org").deliver(a_delivery())

    [raw] = mailbox.messages
    text = message_from_bytes(raw).get_payload(decode=True).decode()
    assert "ref-mail-1" in text
    assert "2026-12-03T09:00:00+00:00" in text


def test_the_notice_carries_no_content(smtp):
    """Neither the sealed content nor any other field of the message is mailed."""
    mailbox, port = smtp

    EmailNoticeChannel("127.0.0.1", port, sender="rr@example.org").deliver(a_delivery())

    [raw] = mailbox.messages
    assert CANARY.encode() not in raw
    assert b"c2VhbGVk" not in raw


def test_a_refused_recipient_is_permanent(smtp):
    """A 5xx answer to the recipient will not change: park it."""
    mailbox, port = smtp
    mailbox.refuse_with = "550 No such mailbox"
    channel = EmailNoticeChannel("127.0.0.1", port, sender="rr@example.org")

    with pytest.raises(PermanentFailure):
        channel.deliver(a_delivery())


def test_a_temporary_refusal_is_retried(smtp):
    """A 4xx answer may pass later: retry."""
    mailbox, port = smtp
    mailbox.refuse_with = "451 Try again later"
    channel = EmailNoticeChannel("127.0.0.1", port, sender="rr@example.org")

    with pytest.raises(RetryLater):
        channel.deliver(a_delivery())


def test_an_unreachable_server_is_retried():
    """A refused connection may pass later: retry."""
    channel = EmailNoticeChannel("127.0.0.1", free_port(), sender="rr@example.org")

    with pytest.raises(RetryLater):
        channel.deliver(a_delivery())
