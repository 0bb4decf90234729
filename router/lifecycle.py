"""The referral lifecycle: its states and the only ways between them.

    routed ──deliver──▶ delivered
      │                    │
      └──────acknowledge───┴──▶ acknowledged ──report──▶ follow_up_reported
                                    │    ▲                  │      │
                                    │    └──report again────┘      │
                                    └──────────close───────────────┴──▶ closed
    routed, delivered, acknowledged ──decline──▶ declined  (re-routed onward)
    any state but closed and declined ──revoke──▶ revoked  (by a coordinator)

Every transition is one conditional UPDATE: the state it leaves is part of the
WHERE clause, so two racing actors cannot both take the same referral through
two different doors.
"""

from __future__ import annotations

from router.errors import InvalidTransition

AWAITING_ACKNOWLEDGEMENT = ("routed", "delivered")
ACKNOWLEDGED = ("acknowledged", "follow_up_reported", "closed")
ENDED = ("closed", "declined", "revoked")

TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (AWAITING_ACKNOWLEDGEMENT, "acknowledged"),
    "report_follow_up": (("acknowledged", "follow_up_reported"), "follow_up_reported"),
    "close": (("acknowledged", "follow_up_reported"), "closed"),
    "decline": (("routed", "delivered", "acknowledged"), "declined"),
    "revoke": (
        ("routed", "delivered", "acknowledged", "follow_up_reported"),
        "revoked",
    ),
}

_VERBS = {
    "acknowledge": "acknowledged",
    "report_follow_up": "given a follow-up",
    "close": "closed",
    "decline": "declined",
    "revoke": "revoked",
}


def sources(action: str) -> tuple[str, ...]:
    """The states from which `action` may start."""
    return TRANSITIONS[action][0]


def target(action: str) -> str:
    """The state `action` leads to."""
    return TRANSITIONS[action][1]


def refuse(action: str, state: str) -> InvalidTransition:
    """The error for `action` attempted on a referral that is `state`."""
    allowed = ", ".join(sources(action))

    return InvalidTransition(
        f"A referral that is {state} cannot be {_VERBS[action]}; "
        f"it must be one of: {allowed}."
    )
