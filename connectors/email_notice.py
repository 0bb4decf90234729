"""E-mail notice channel: tells a contact point that a referral is waiting.

For contact points that poll (`GET /v1/inbox`). The notice names the referral
and its acknowledgement deadline and nothing else: e-mail is not end-to-end
encrypted, so the referral itself, even sealed, stays in the router's inbox.
A refused recipient or sender (5xx) is permanent; a lost connection, a
timeout or a temporary refusal (4xx) is retried later.
"""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

from connectors.base import Delivery
from router.errors import PermanentFailure, RetryLater


class EmailNoticeChannel:
    name = "email"

    def __init__(
        self, host: str, port: int, *, sender: str, timeout: float = 10.0
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout

    def deliver(self, delivery: Delivery) -> None:
        if not delivery.address:
            raise PermanentFailure("the contact point has no e-mail address")
        notice = self.notice_for(delivery)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(notice)
        except smtplib.SMTPResponseException as error:
            _raise_for_code(error.smtp_code)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            _raise_for_code(min(codes, default=550))
        except (OSError, smtplib.SMTPException) as error:
            raise RetryLater(type(error).__name__) from None

    def notice_for(self, delivery: Delivery) -> EmailMessage:
        """The notice: referral id and deadline, read from the routing headers.

        The same channel carries the SLA clock's reminders and escalations,
        whose messages say `"kind": "notice"`.
        """
        headers = json.loads(delivery.body)
        referral_id = headers["referral_id"]
        subject, opening = _WORDING.get(headers.get("notice"), _WORDING[None])
        notice = EmailMessage()
        notice["From"] = self._sender
        notice["To"] = delivery.address
        notice["Subject"] = subject.format(referral_id=referral_id)
        notice.set_content(
            f"{opening}\n\n"
            f"Referral: {referral_id}\n"
            f"Acknowledge by: {headers['ack_due_at']}\n\n"
            "Fetch it with a signed GET /v1/inbox and acknowledge it there.\n"
            "This notice carries no case content, by design.\n"
        )

        return notice


_WORDING = {
    None: (
        "Referral {referral_id} is waiting for you",
        "A referral is waiting in your inbox at the referral router.",
    ),
    "reminder": (
        "Reminder: referral {referral_id} is not acknowledged yet",
        "A referral routed to you is still waiting for its acknowledgement.",
    ),
    "escalation": (
        "Escalation: referral {referral_id} passed its deadline",
        "A referral passed its acknowledgement deadline unacknowledged; "
        "the coordinators are told.",
    ),
}


def _raise_for_code(code: int) -> None:
    if 400 <= code < 500:
        raise RetryLater(f"SMTP {code}")
    raise PermanentFailure(f"SMTP {code}")
