"""The audit log: who did what to which case or referral, and when.

Entries hold identifiers, states and reasons from fixed vocabularies; never
report content or free text.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, insert

from router.persistence.tables import audit_entries

_INSERT = insert(audit_entries)


def audit_row(
    *,
    at: datetime,
    actor: str,
    action: str,
    case_id: str | None = None,
    referral_id: str | None = None,
    **detail,
) -> dict:
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "case_id": case_id,
        "referral_id": referral_id,
        "detail": json.dumps(detail, sort_keys=True) if detail else None,
    }


def record(connection: Connection, *rows: dict) -> None:
    """Write audit rows made by `audit_row`."""
    if rows:
        connection.execute(_INSERT, list(rows))
