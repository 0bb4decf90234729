"""Writing one filed report to PostgreSQL in a single statement.

A report's case, referrals, outbox rows and audit entries, and the claim of
its call's `jti`, go to the server as one statement of data-modifying CTEs:
one round trip, atomic without BEGIN and COMMIT of its own, and one plan that
the server keeps prepared. Row sets travel as JSON, unpacked server-side.

The statement files nothing when the hotline used the reference before: the
case insert does nothing, and so do the inserts that join it. The `jti` is
then claimed only if the earlier case holds the same body, so a conflicting
resubmission, refused with 409, leaves no trace, as on the other backends.

Other backends write the same rows statement by statement (`router.intake`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

FILE_REPORT = """
WITH new_case AS (
    INSERT INTO cases (
        id, hotline_id, reference, body_sha256, received_at, routed_at,
        category, immediate_danger, incident_country, rule_set_version, content
    )
    VALUES (
        %(id)s, %(hotline_id)s, %(reference)s, %(body_sha256)s, %(received_at)s,
        %(routed_at)s, %(category)s, %(immediate_danger)s, %(incident_country)s,
        %(rule_set_version)s, %(content)s
    )
    ON CONFLICT (hotline_id, reference) DO NOTHING
    RETURNING id
), token AS (
    INSERT INTO seen_tokens (issuer, jti, expires_at)
    SELECT %(hotline_id)s, %(jti)s, %(token_expires_at)s
    WHERE EXISTS (SELECT FROM new_case)
       OR EXISTS (
           SELECT FROM cases
           WHERE hotline_id = %(hotline_id)s
             AND reference = %(reference)s
             AND body_sha256 = %(body_sha256)s
       )
    RETURNING 1
), new_referrals AS (
    INSERT INTO referrals (
        id, case_id, contact_point_id, role, state, rule_id, routed_at,
        ack_due_at, remind_at, fields
    )
    SELECT r.id, new_case.id, r.contact_point_id, r.role, r.state, r.rule_id,
           r.routed_at, r.ack_due_at, r.remind_at, r.fields
    FROM new_case, jsonb_to_recordset(%(referrals)s::jsonb) AS r(
        id text, contact_point_id text, role text, state text, rule_id text,
        routed_at timestamptz, ack_due_at timestamptz, remind_at timestamptz,
        fields text
    )
), new_outbox AS (
    INSERT INTO outbox (referral_id, contact_point_id, payload, created_at)
    SELECT o.referral_id, o.contact_point_id, convert_to(o.payload, 'UTF8'),
           o.created_at
    FROM new_case, jsonb_to_recordset(%(outbox)s::jsonb) AS o(
        referral_id text, contact_point_id text, payload text,
        created_at timestamptz
    )
), new_audit AS (
    INSERT INTO audit_entries (at, actor, action, case_id, referral_id, detail)
    SELECT a.at, a.actor, a.action, new_case.id, a.referral_id, a.detail
    FROM new_case, jsonb_to_recordset(%(audit)s::jsonb) AS a(
        at timestamptz, actor text, action text, referral_id text, detail text
    )
)
SELECT (SELECT id FROM new_case) AS case_id, EXISTS (SELECT FROM token) AS claimed
"""

# The primary key of `seen_tokens`: a second use of a `jti` by its issuer.
REPLAY_CONSTRAINT = "pk_seen_tokens"


def parameters(
    *,
    case: Mapping[str, Any],
    token_jti: str,
    token_expires_at: datetime,
    referrals: Sequence[Mapping[str, Any]],
    outbox: Sequence[Mapping[str, Any]],
    audit: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The statement's parameters: the case's columns, and each row set as JSON.

    JSON costs a fraction of what typed arrays cost to send, on both sides.
    """
    return {
        **case,
        "jti": token_jti,
        "token_expires_at": token_expires_at,
        "referrals": _json(referrals),
        "outbox": _json(outbox),
        "audit": _json(audit),
    }


def _json(rows: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), default=_json_value)


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        # Outbox payloads are JSON documents made with ensure_ascii.
        return value.decode("ascii")
    raise TypeError(f"{type(value).__name__} has no JSON form here")


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint a PostgreSQL integrity error names, if any."""
    diagnostics = getattr(error.orig, "diag", None)

    return getattr(diagnostics, "constraint_name", None)
