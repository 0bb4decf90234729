"""Notices: reminders to contact points and escalations to coordinators.

A notice is written in the same transaction as the change that causes it and
sent afterwards, so a crash loses none. It names the referral and its
deadline, never content. Notices go to the recipient's webhook, signed like
referrals, or else by e-mail where the recipient has an address and SMTP is
configured; a recipient with neither is told through the log, loudly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from connectors.base import Delivery
from contracts import PROTOCOL_VERSION
from router.errors import DeliveryError
from router.lifecycle import AWAITING_ACKNOWLEDGEMENT
from router.persistence.tables import notices, referrals

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 10

_INSERT = insert(notices)
_PENDING = (
    select(
        notices.c.id,
        notices.c.kind,
        notices.c.referral_id,
        notices.c.recipient_id,
        referrals.c.case_id,
        referrals.c.contact_point_id,
        referrals.c.ack_due_at,
        referrals.c.state,
    )
    .join(referrals, referrals.c.id == notices.c.referral_id)
    .where(notices.c.sent_at.is_(None), notices.c.attempts < MAX_ATTEMPTS)
    .order_by(notices.c.id)
    .limit(100)
    .with_for_update(skip_locked=True, of=notices)
)
_MARK_SENT = (
    update(notices)
    .where(notices.c.id == bindparam("notice_id"))
    .values(sent_at=bindparam("now"), attempts=notices.c.attempts + 1)
)
_COUNT_FAILURE = (
    update(notices)
    .where(notices.c.id == bindparam("notice_id"))
    .values(attempts=notices.c.attempts + 1)
)


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    kind: str  # reminder | escalation
    referral_id: str
    recipient_id: str
    case_id: str
    contact_point_id: str
    ack_due_at: datetime

    def message(self) -> bytes:
        return json.dumps(
            {
                "protocol": PROTOCOL_VERSION,
                "kind": "notice",
                "notice": self.kind,
                "notice_id": self.id,
                "referral_id": self.referral_id,
                "contact_point_id": self.contact_point_id,
                "ack_due_at": self.ack_due_at.isoformat(),
            },
            separators=(",", ":"),
        ).encode()


def queue_notices(
    connection: Connection, kind: str, rows, recipient_of, now: datetime
) -> None:
    """Write one notice per referral row; `recipient_of(row)` names who gets it."""
    values = [
        {
            "kind": kind,
            "referral_id": row.id,
            "recipient_id": recipient_of(row),
            "created_at": now,
        }
        for row in rows
    ]
    if values:
        connection.execute(_INSERT, values)


class NoticeSender:
    """Sends each notice through the first channel its recipient can take."""

    def __init__(self, directory, *, webhook, email=None) -> None:
        self._directory = directory
        self._webhook = webhook
        self._email = email

    def send(self, notice: Notice) -> None:
        recipient = self._directory.current().contact_points.get(notice.recipient_id)
        if recipient is not None and recipient.webhook_url:
            channel, address = self._webhook, recipient.webhook_url
        elif recipient is not None and recipient.email and self._email is not None:
            channel, address = self._email, recipient.email
        else:
            log.warning(
                "notice_without_channel",
                notice=notice.kind,
                recipient_id=notice.recipient_id,
                referral_id=notice.referral_id,
            )
            return
        channel.deliver(
            Delivery(
                referral_id=notice.referral_id,
                contact_point_id=notice.recipient_id,
                address=address,
                body=notice.message(),
            )
        )


def send_pending(engine: Engine, notifier, clock) -> int:
    """Send what is pending; a reminder whose referral moved on is dropped."""
    sent = 0
    with engine.begin() as connection:
        for row in connection.execute(_PENDING).all():
            notice = Notice(
                row.id,
                row.kind,
                row.referral_id,
                row.recipient_id,
                row.case_id,
                row.contact_point_id,
                row.ack_due_at,
            )
            stale = (
                notice.kind == "reminder" and row.state not in AWAITING_ACKNOWLEDGEMENT
            )
            try:
                if not stale:
                    notifier.send(notice)
            except DeliveryError as error:
                log.warning("notice_failed", notice_id=notice.id, reason=str(error))
                connection.execute(_COUNT_FAILURE, {"notice_id": notice.id})
                continue
            connection.execute(_MARK_SENT, {"notice_id": notice.id, "now": clock.now()})
            sent += not stale

    return sent
