"""The receiver kit: a contact point reads its own queue with pika.

Small and blocking on purpose, so that a police IT team can read it in one
sitting. Each message is opened with the contact point's private key and
written once to the local inbox; only then is it acknowledged to the broker.
With an `acknowledge` callable (see `signed_acknowledger`), the kit then
acknowledges the referral over the router's signed API, and only after that
to the broker: if the API cannot be reached the message is returned to the
queue and tried again (the inbox still writes it once; a repeated API
acknowledgement changes nothing). A message that cannot be read is rejected
without requeue (the broker parks it) rather than looping. After a lost
connection the kit reconnects, and the broker redelivers whatever was not
acknowledged: the inbox writes it once.

Later, once the case has been worked on, `report_follow_up` tells the router
what was done with a referral the kit received, over the same signed API
(`referral-router receiver-follow-up` on the command line).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pika
import requests
import structlog
from pika.exceptions import AMQPConnectionError, ChannelClosedByBroker

from connectors.inbox import Inbox
from contracts.referrals import OUTCOMES
from contracts.sealing import SealedContentError, open_sealed

log = structlog.get_logger(__name__)


class ReceiverKit:
    def __init__(
        self,
        amqp_url: str,
        queue: str,
        private_key: str,
        inbox: Inbox,
        *,
        prefetch: int = 10,
        acknowledge: Callable[[str], bool] | None = None,
    ) -> None:
        self._parameters = pika.URLParameters(amqp_url)
        self._queue = queue
        self._private_key = private_key
        self._inbox = inbox
        self._prefetch = prefetch
        self._acknowledge = acknowledge

    def handle(self, channel, method, properties, body: bytes) -> None:
        """Open one message, store it once, then acknowledge it."""
        try:
            message = json.loads(body)
            referral_id = message["referral_id"]
            content = open_sealed(self._private_key, message["content"])
        except (ValueError, KeyError, TypeError, SealedContentError):
            log.warning("message_unreadable", delivery_tag=method.delivery_tag)
            channel.basic_reject(method.delivery_tag, requeue=False)
            return

        record = {
            "referral_id": referral_id,
            "case_id": message.get("case_id"),
            "role": message.get("role"),
            "routed_at": message.get("routed_at"),
            "ack_due_at": message.get("ack_due_at"),
            "content": content,
        }
        stored = self._inbox.write_once(referral_id, record)
        log.info("referral_received", referral_id=referral_id, new=stored)
        if self._acknowledge is not None and not self._acknowledge(referral_id):
            log.warning("acknowledgement_failed", referral_id=referral_id)
            channel.basic_nack(method.delivery_tag, requeue=True)
            return
        channel.basic_ack(method.delivery_tag)

    def consume(self, *, max_messages: int | None = None, idle_timeout=None) -> int:
        """Consume until `max_messages` or `idle_timeout` seconds of quiet."""
        handled = 0
        connection = pika.BlockingConnection(self._parameters)
        try:
            channel = connection.channel()
            channel.basic_qos(prefetch_count=self._prefetch)
            for method, properties, body in channel.consume(
                self._queue, inactivity_timeout=idle_timeout
            ):
                if method is None:
                    break
                self.handle(channel, method, properties, body)
                handled += 1
                if max_messages is not None and handled >= max_messages:
                    break
            channel.cancel()
        finally:
            if connection.is_open:
                connection.close()

        return handled

    def run_forever(self, reconnect_delay: float = 5.0) -> None:
        """Consume, reconnecting after every loss of the broker."""
        while True:
            try:
                self.consume()
            except (AMQPConnectionError, ChannelClosedByBroker) as error:
                log.warning("broker_lost", error_type=type(error).__name__)
                time.sleep(reconnect_delay)


def signed_acknowledger(client) -> Callable[[str], bool]:
    """Acknowledge over the signed API with a `connectors.client.SignedClient`.

    200 is done; so are 404 and 409 (not addressed to us, or revoked): asking
    again cannot change them. Anything else, or no answer, is tried again.
    """

    def acknowledge(referral_id: str) -> bool:
        try:
            status = client.acknowledge(referral_id).status_code
        except requests.RequestException:
            return False
        if status in (404, 409):
            log.warning(
                "acknowledgement_refused", referral_id=referral_id, status=status
            )

        return status in (200, 404, 409)

    return acknowledge


def report_follow_up(
    client,
    inbox: Inbox,
    referral_id: str,
    outcome: str,
    *,
    note: str | None = None,
    final: bool = False,
) -> requests.Response:
    """Report a follow-up outcome over the signed API (a `SignedClient`).

    Only for a referral this inbox holds, and only with an outcome of the
    fixed vocabulary (`contracts.referrals.OUTCOMES`); anything else is
    refused here, before a call is made. `final=True` closes the referral.
    Returns the router's answer: 200 with the referral, else a problem
    (409 if it is not acknowledged yet or already closed).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"the outcome must be one of: {', '.join(OUTCOMES)}")
    if not inbox.path_of(referral_id).exists():
        raise LookupError("this inbox holds no such referral")
    response = client.report_follow_up(referral_id, outcome, note=note, final=final)
    log.info("follow_up_sent", referral_id=referral_id, status=response.status_code)

    return response
