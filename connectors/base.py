"""The one small interface every delivery channel honours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Delivery:
    """One referral message on its way to one contact point.

    `body` is the referral message exactly as published: routing headers and
    sealed content, never plaintext.
    """

    referral_id: str
    contact_point_id: str
    address: str | None
    body: bytes


class Channel(Protocol):
    name: str

    def deliver(self, delivery: Delivery) -> None:
        """Hand the message over, or raise `RetryLater` or `PermanentFailure`."""
