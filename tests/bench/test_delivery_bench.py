"""The delivery benchmark's raw publish goes to the broker it is given."""

from __future__ import annotations

import uuid

import pytest

from tests.bench.delivery_bench import raw_publish
from tests.services import RABBITMQ_URL, check_rabbitmq


def test_raw_publish_uses_the_broker_url_it_is_given():
    """A handful of confirmed messages on the test broker, in seconds."""
    check_rabbitmq()
    queue = f"rrtest-{uuid.uuid4().hex[:8]}.raw"

    elapsed = raw_publish(RABBITMQ_URL, queue, size=64, count=5, in_flight=2)

    assert elapsed > 0


def test_raw_publish_does_not_fall_back_on_a_broker_of_its_own():
    """Given a port nothing listens on, it fails rather than publish elsewhere."""
    nowhere = "amqp://guest:guest@127.0.0.1:1//"

    with pytest.raises(OSError):
        raw_publish(nowhere, "rrtest-nowhere.raw", size=64, count=1, in_flight=1)
