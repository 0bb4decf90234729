"""Every delivery channel honours the one small interface."""

from __future__ import annotations

import inspect

import pytest

from connectors.base import Delivery
from connectors.email_notice import EmailNoticeChannel
from connectors.webhook import WebhookChannel
from router.clock import SystemClock
from router.errors import PermanentFailure

CHANNELS = [
    lambda: WebhookChannel(signer=None, clock=SystemClock(), attempts=1),
    lambda: EmailNoticeChannel("127.0.0.1", 25, sender="rr@example.org"),
]


@pytest.mark.parametrize("make", CHANNELS)
def test_a_channel_has_a_name_and_delivers_one_message(make):
    """`name` is a string and `deliver` takes one `Delivery`."""
    channel = make()

    parameters = inspect.signature(channel.deliver).parameters

    assert isinstance(channel.name, str)
    assert list(parameters) == ["delivery"]


@pytest.mark.parametrize("make", CHANNELS)
def test_a_channel_without_an_address_fails_permanently(make):
    """No address will appear by retrying: the failure is permanent."""
    channel = make()

    with pytest.raises(PermanentFailure):
        channel.deliver(Delivery("ref-1", "cp-1", None, b"{}"))
