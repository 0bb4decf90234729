"""A relay process that stops between the broker's confirms and their mark.

`test_relay` runs it with `python -m tests.router.delivery.dying_relay` and
kills it with SIGKILL once it printed `confirmed N`: every message of its batch
is on the broker, and the transaction that would mark the rows sent is still
open, so it dies uncommitted. Settings come from the environment, as for the
`referral-router relay` process.
"""

from __future__ import annotations

import time

from router.clock import SystemClock
from router.config import load_settings
from router.delivery.broker import Publisher
from router.delivery.relay import relay_once
from router.persistence.db import create_database_engine

BATCH = 500


class HangsAfterConfirms:
    """Publishes the whole batch, reports the confirms, then never returns."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    def publish_batch(self, messages, on_confirm) -> None:
        confirmed = []

        def record(outgoing) -> None:
            confirmed.append(outgoing)
            on_confirm(outgoing)

        self._publisher.publish_batch(messages, record)
        print(f"confirmed {len(confirmed)}", flush=True)
        # The relay would mark the rows once this returns; it is killed first.
        time.sleep(600)


def main() -> None:
    settings = load_settings()
    engine = create_database_engine(settings.database_url)
    publisher = HangsAfterConfirms(Publisher(settings))
    relay_once(engine, publisher, SystemClock(), batch=BATCH)


if __name__ == "__main__":
    main()
