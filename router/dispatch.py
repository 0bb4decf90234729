"""Making referrals: the row of a new referral and the sealed message for it.

Intake makes referrals from a routing decision; a decline or an escalation
makes one that replaces another. Both go through here, so every referral gets
the same deadline, reminder point and sealing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from contracts import PROTOCOL_VERSION
from contracts.sealing import seal
from routing_rules import minimise

DEFAULT_REMINDER_AFTER = timedelta(hours=24)


def fields_text(fields: Iterable[str]) -> str:
    return ",".join(sorted(fields))


def fields_of(text: str) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()


def reminder_point(
    now: datetime, ack_within: timedelta, reminder_after: timedelta
) -> datetime:
    """When to remind: after `reminder_after`, or halfway for short deadlines."""
    return now + min(reminder_after, ack_within / 2)


def referral_row(
    *,
    case_id: str,
    contact_point_id: str,
    role: str,
    rule_id: str,
    fields: Iterable[str],
    ack_within: timedelta,
    now: datetime,
    reminder_after: timedelta = DEFAULT_REMINDER_AFTER,
    replaces: str | None = None,
) -> dict[str, Any]:
    """A new referral, routed now, due `ack_within` from now."""
    return {
        "id": str(uuid.uuid4()),
        "case_id": case_id,
        "contact_point_id": contact_point_id,
        "role": role,
        "state": "routed",
        "rule_id": rule_id,
        "routed_at": now,
        "ack_due_at": now + ack_within,
        "remind_at": reminder_point(now, ack_within, reminder_after),
        "fields": fields_text(fields),
        "replaces_referral_id": replaces,
    }


def sealed_outbox_row(
    referral: Mapping[str, Any],
    *,
    hotline_id: str,
    document: Mapping[str, Any],
    encryption_key,
    now: datetime,
) -> dict[str, Any]:
    """The outbox row carrying `referral` to its contact point, content sealed."""
    content = {
        "hotline_id": hotline_id,
        "report": minimise(document, fields_of(referral["fields"])),
    }
    message = {
        "protocol": PROTOCOL_VERSION,
        "referral_id": referral["id"],
        "case_id": referral["case_id"],
        "contact_point_id": referral["contact_point_id"],
        "role": referral["role"],
        "routed_at": referral["routed_at"].isoformat(),
        "ack_due_at": referral["ack_due_at"].isoformat(),
        "content": seal(encryption_key, content),
    }

    return {
        "referral_id": referral["id"],
        "contact_point_id": referral["contact_point_id"],
        "payload": json.dumps(message, separators=(",", ":")).encode(),
        "created_at": now,
        "published_at": None,
    }
