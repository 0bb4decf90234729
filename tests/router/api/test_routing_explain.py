"""`POST /v1/routing/explain` for hotlines and coordinators."""

from __future__ import annotations

from sqlalchemy import func, select

from router.persistence.tables import (
    audit_entries,
    cases,
    metadata,
    outbox,
    referrals,
    seen_tokens,
)
from tests.factories import a_report
from tests.router.api.test_reports import HOTLINE, assert_problem


def explain(caller, party_id, report):
    return caller.send(party_id, "POST", "/v1/routing/explain", report)


def test_a_hotline_sees_the_decision_and_why(caller, services):
    """Each referral comes with the rules that fired; no case is filed."""
    response = explain(caller, HOTLINE, a_report())

    assert response.status_code == 200
    explanation = response.get_json()
    lead = next(r for r in explanation["referrals"] if r["role"] == "lead")
    assert lead["contact_point_id"] == "cp-th-police"
    assert lead["fired"], "every referral names the rules behind it"
    assert lead["fired"][0]["reasons"]
    assert explanation["rule_set_version"].startswith("2026")
    with services.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(cases)).scalar() == 0


def _row_counts(services) -> dict[str, int]:
    with services.engine.connect() as connection:
        return {
            table.name: connection.execute(
                select(func.count()).select_from(table)
            ).scalar()
            for table in metadata.sorted_tables
        }


def test_explaining_stores_nothing_but_the_token_replay_record(caller, services):
    """No case, referral, outbox message or audit entry is written, nor anything
    else: only the call's token is remembered against replay."""
    before = _row_counts(services)

    response = explain(caller, HOTLINE, a_report())

    assert response.status_code == 200
    after = _row_counts(services)
    for table in (cases, referrals, outbox, audit_entries):
        assert after[table.name] == 0, table.name
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {seen_tokens.name}
    assert after[seen_tokens.name] == before[seen_tokens.name] + 1
    with services.engine.connect() as connection:
        token = connection.execute(select(seen_tokens)).one()
    assert set(token._mapping) == {"issuer", "jti", "expires_at"}
    assert token.issuer == HOTLINE


def test_the_coordinators_may_ask_too(caller):
    """The coordinators' contact point may explain; others may not."""
    coordinators = explain(caller, "cp-coordinators", a_report())
    police = explain(caller, "cp-th-police", a_report())

    assert coordinators.status_code == 200
    assert_problem(police, 403, "forbidden")


def test_an_invalid_report_is_refused_as_for_filing(caller):
    """The same contract applies as to filing."""
    response = explain(caller, HOTLINE, a_report(category="unknown"))

    assert_problem(response, 422, "validation-failed")
