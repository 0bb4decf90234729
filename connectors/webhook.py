"""Webhook channel: POSTs each referral message to the contact point's URL.

The call is signed by the router exactly as parties sign theirs, so the
receiver can check who sent it and that the body is intact; the
`Referral-Id` header lets it deduplicate. A 2xx is delivered; 408, 429, 5xx,
timeouts and refused connections are retried with backoff, a bounded number
of times; any other 4xx is permanent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
import structlog

from connectors.base import Delivery
from router.errors import PermanentFailure, RetryLater

log = structlog.get_logger(__name__)
CONNECT_TIMEOUT = 3.05
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        signer,
        clock,
        *,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._signer = signer
        self._clock = clock
        self._timeout = (CONNECT_TIMEOUT, timeout)
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self._session = requests.Session()

    def deliver(self, delivery: Delivery) -> None:
        if not delivery.address:
            raise PermanentFailure("the contact point has no webhook URL")
        for attempt in range(1, self._attempts + 1):
            try:
                self._post(delivery)
                return
            except RetryLater as error:
                log.warning(
                    "webhook_retry",
                    attempt=attempt,
                    of=self._attempts,
                    reason=str(error),
                )
                if attempt == self._attempts:
                    raise
                self._sleep(self._backoff * 2 ** (attempt - 1))

    def _post(self, delivery: Delivery) -> None:
        token = self._signer.sign(
            audience=delivery.contact_point_id,
            method="POST",
            url=delivery.address,
            body=delivery.body,
            now=self._clock.now(),
        )
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Referral-Id": delivery.referral_id,
        }
        try:
            response = self._session.post(
                delivery.address,
                data=delivery.body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise RetryLater(type(error).__name__) from None

        status = response.status_code
        if 200 <= status < 300:
            return
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise RetryLater(f"HTTP {status}")
        raise PermanentFailure(f"HTTP {status}")
