"""Intake: a verified report becomes a case, routed, in one transaction.

The case, its referrals, one outbox row per referral and the audit entries are
written together, so nothing is published that is not committed, and nothing
committed is left unpublished: the relay picks the outbox up from here.
On PostgreSQL they go as one statement (`router.persistence.filing`); on
other backends statement by statement in one transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from router.auth import VerifiedCall, claim_token, refuse_replay
from router.cases import case_view, find_case, read_case
from router.content_keys import ContentKeys
from router.directory import Snapshot
from router.dispatch import DEFAULT_REMINDER_AFTER, referral_row, sealed_outbox_row
from router.errors import Conflict
from router.persistence import filing
from router.persistence.tables import audit_entries, cases, outbox, referrals
from routing_rules import Decision

# A case filed under a reference its hotline used before inserts nothing and
# returns no id; the common case, a new reference, so needs no select first.
_INSERT_NEW_CASE = {
    dialect.dialect.name: dialect.insert(cases)
    .on_conflict_do_nothing(index_elements=[cases.c.hotline_id, cases.c.reference])
    .returning(cases.c.id)
    for dialect in (postgresql, sqlite)
}
_INSERT_REFERRALS = insert(referrals)
_INSERT_OUTBOX = insert(outbox)
_INSERT_AUDIT = insert(audit_entries)


@dataclass(frozen=True, slots=True)
class Submission:
    """A report whose call is verified and whose body follows the contract."""

    call: VerifiedCall
    report: dict[str, Any]  # as the contract schema loaded it
    document: dict[str, Any]  # the JSON as sent, for sealing
    body_sha256: str


@dataclass(frozen=True, slots=True)
class Outcome:
    case: dict[str, Any]
    created: bool


@dataclass(frozen=True, slots=True)
class Filing:
    """The rows that file one report, made before anything is written."""

    case: dict[str, Any]
    referrals: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    audit: list[dict[str, Any]]


def submit_report(
    engine: Engine,
    submission: Submission,
    *,
    decide,
    snapshot: Snapshot,
    now: datetime,
    content_keys: ContentKeys,
    reminder_after: timedelta = DEFAULT_REMINDER_AFTER,
) -> Outcome:
    """File a report: a new case, or the case already filed under its reference.

    `decide(report, hotline_country, at)` is the routing decision; the report
    is stored encrypted with `content_keys`. The call's `jti` is claimed with
    the case, so a replayed call is refused and a refused one leaves no trace.
    """
    rows = make_filing(
        submission,
        decide=decide,
        snapshot=snapshot,
        now=now,
        content_keys=content_keys,
        reminder_after=reminder_after,
    )
    if engine.dialect.name == "postgresql":
        return _file_in_one_statement(engine, submission, rows)

    try:
        return _file_statement_by_statement(engine, submission, rows)
    except IntegrityError:
        # Another request filed the same reference a moment ago: a second
        # attempt finds its case and answers as for any resubmission.
        return _file_statement_by_statement(engine, submission, rows)


def make_filing(
    submission: Submission,
    *,
    decide,
    snapshot: Snapshot,
    now: datetime,
    content_keys: ContentKeys,
    reminder_after: timedelta,
) -> Filing:
    """Route the report and make every row that files it, sealed where sent."""
    call = submission.call
    hotline_country = snapshot.hotline_countries.get(call.party_id)
    decision = decide(submission.report, hotline_country, now)
    case_row = _case_row(submission, decision, now, content_keys)
    referral_rows = [
        referral_row(
            case_id=case_row["id"],
            contact_point_id=referral.contact_point_id,
            role=referral.role,
            rule_id=referral.rule_id,
            fields=referral.fields,
            ack_within=referral.ack_within,
            now=now,
            reminder_after=reminder_after,
        )
        for referral in decision.referrals
    ]
    outbox_rows = [
        sealed_outbox_row(
            row,
            hotline_id=call.party_id,
            document=submission.document,
            encryption_key=snapshot.contact_points[
                row["contact_point_id"]
            ].encryption_key,
            now=now,
        )
        for row in referral_rows
    ]

    return Filing(
        case=case_row,
        referrals=referral_rows,
        outbox=outbox_rows,
        audit=_audit_rows(call, case_row, referral_rows, decision, now),
    )


def _file_in_one_statement(
    engine: Engine, submission: Submission, rows: Filing
) -> Outcome:
    call = submission.call
    parameters = filing.parameters(
        case=rows.case,
        token_jti=call.jti,
        token_expires_at=call.expires_at,
        referrals=rows.referrals,
        outbox=rows.outbox,
        audit=rows.audit,
    )
    # One statement is atomic on its own: no BEGIN and COMMIT round trips.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        try:
            case_id, claimed = connection.exec_driver_sql(
                filing.FILE_REPORT, parameters
            ).one()
        except IntegrityError as error:
            if filing.violated_constraint(error) == filing.REPLAY_CONSTRAINT:
                raise refuse_replay() from None
            raise
        if case_id is not None:
            return Outcome(case_view(rows.case, rows.referrals), created=True)

        return _filed_before(connection, submission, claimed=claimed)


def _file_statement_by_statement(
    engine: Engine, submission: Submission, rows: Filing
) -> Outcome:
    with engine.begin() as connection:
        claim_token(connection, submission.call)
        inserted = connection.execute(
            _INSERT_NEW_CASE[connection.dialect.name], rows.case
        ).first()
        if inserted is None:
            return _filed_before(connection, submission, claimed=True)
        connection.execute(_INSERT_REFERRALS, rows.referrals)
        connection.execute(_INSERT_OUTBOX, rows.outbox)
        connection.execute(_INSERT_AUDIT, rows.audit)

        return Outcome(case_view(rows.case, rows.referrals), created=True)


def _filed_before(
    connection: Connection, submission: Submission, *, claimed: bool
) -> Outcome:
    existing = find_case(
        connection, submission.call.party_id, submission.report["reference"]
    )
    if existing.body_sha256 != submission.body_sha256:
        raise Conflict(
            "This reference was filed before with another body.",
            slug="reference-conflict",
        )
    if not claimed:
        # The earlier filing committed while this call's statement ran, too
        # late for the statement to see it: claim the token now.
        claim_token(connection, submission.call)

    return Outcome(read_case(connection, existing), created=False)


def _case_row(
    submission: Submission, decision: Decision, now: datetime, keys: ContentKeys
) -> dict:
    report = submission.report
    document = json.dumps(submission.document, separators=(",", ":")).encode()

    return {
        "id": str(uuid.uuid4()),
        "hotline_id": submission.call.party_id,
        "reference": report["reference"],
        "body_sha256": submission.body_sha256,
        "received_at": report["received_at"],
        "routed_at": now,
        "category": report["category"],
        "immediate_danger": report["immediate_danger"],
        "incident_country": report.get("incident", {}).get("country"),
        "rule_set_version": decision.rule_set_version,
        "content": keys.encrypt(document),
    }


def _audit_rows(call, case_row, referral_rows, decision, now) -> list[dict]:
    filed = {
        "at": now,
        "actor": call.party_id,
        "action": "case_filed",
        "case_id": case_row["id"],
        "referral_id": None,
        "detail": json.dumps(
            {
                "rule_set_version": decision.rule_set_version,
                "to_coordinators": decision.to_coordinators,
            }
        ),
    }
    routed = [
        {
            "at": now,
            "actor": "router",
            "action": "referral_routed",
            "case_id": case_row["id"],
            "referral_id": row["id"],
            "detail": json.dumps(
                {
                    "contact_point_id": row["contact_point_id"],
                    "role": row["role"],
                    "rule_id": row["rule_id"],
                }
            ),
        }
        for row in referral_rows
    ]

    return [filed, *routed]
