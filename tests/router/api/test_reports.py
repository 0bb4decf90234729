"""`POST /v1/reports` and `GET /v1/reports/{reference}` through the real app."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from contracts.signed_calls import new_signing_key
from router.persistence.tables import (
    audit_entries,
    cases,
    outbox,
    referrals,
    seen_tokens,
)
from tests.factories import SYNTHETIC, a_report

HOTLINE = "hl-at-demo"
OTHER_HOTLINE = "hl-de-demo"
PROBLEM = "urn:referral-router:problem:"


def count(services, table) -> int:
    with services.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar()


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == PROBLEM + slug
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]

    return problem


def test_a_signed_report_becomes_a_routed_case(caller, services):
    """A valid signed report is filed as a case with its referrals, in one go."""
    response = caller.file(HOTLINE, a_report())

    assert response.status_code == 201
    case = response.get_json()
    assert case["reference"] == "TEST-0001"
    assert case["rule_set_version"].startswith("2026")
    roles = {r["contact_point_id"]: r["role"] for r in case["referrals"]}
    assert roles["cp-th-police"] == "lead"
    assert all(r["state"] == "routed" for r in case["referrals"])
    assert response.headers["Location"] == "/v1/reports/TEST-0001"
    assert count(services, cases) == 1
    assert count(services, referrals) == len(case["referrals"])
    assert count(services, outbox) == len(case["referrals"])
    assert count(services, audit_entries) == 1 + len(case["referrals"])


def test_deadline_is_48_hours_after_routing(caller, clock):
    """Each referral is due 48 hours after the router routed it."""
    case = caller.file(HOTLINE, a_report()).get_json()

    lead = next(r for r in case["referrals"] if r["role"] == "lead")
    assert lead["routed_at"] == "2026-12-01T09:00:00+00:00"
    assert lead["ack_due_at"] == "2026-12-03T09:00:00+00:00"


def test_outbox_carries_no_plaintext_content(caller, services):
    """The queued messages hold sealed content: no narrative, no place."""
    caller.file(HOTLINE, a_report())

    with services.engine.connect() as connection:
        payloads = connection.execute(select(outbox.c.payload)).scalars().all()
    for payload in payloads:
        assert SYNTHETIC.encode() not in payload
        assert b"Synthetic town" not in payload
        assert json.loads(payload)["content"]["ciphertext"]


def test_the_same_report_twice_returns_the_original_case(caller, services):
    """Resubmitting the same reference and body answers 200 with the same case."""
    first = caller.file(HOTLINE, a_report()).get_json()

    again = caller.file(HOTLINE, a_report())

    assert again.status_code == 200
    assert again.get_json()["case_id"] == first["case_id"]
    assert count(services, cases) == 1


def test_the_same_reference_with_another_body_conflicts(caller, services):
    """The same reference with a different body is refused with 409."""
    caller.file(HOTLINE, a_report())

    response = caller.file(HOTLINE, a_report(category="grooming"))

    assert_problem(response, 409, "reference-conflict")
    assert count(services, cases) == 1


def test_a_refused_resubmission_leaves_its_token_unspent(caller, services):
    """A 409 files nothing and claims nothing: the same call is refused alike."""
    caller.file(HOTLINE, a_report())
    body = json.dumps(a_report(category="grooming")).encode()
    token = caller.token(HOTLINE, "POST", "/v1/reports", body)

    first = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)
    again = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert_problem(first, 409, "reference-conflict")
    assert_problem(again, 409, "reference-conflict")
    assert count(services, seen_tokens) == 1


def test_an_accepted_resubmission_spends_its_token(caller, services):
    """A resubmission answered 200 is a call like any other: its token is used."""
    caller.file(HOTLINE, a_report())
    body = json.dumps(a_report()).encode()
    token = caller.token(HOTLINE, "POST", "/v1/reports", body)

    first = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)
    replay = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert first.status_code == 200
    assert_problem(replay, 401, "token-replayed")
    assert count(services, seen_tokens) == 2


def test_a_filed_case_is_written_whole(caller, services):
    """The case, a referral, a sealed outbox row and an audit entry each, and the
    token, all written by the one filing, with the times it was routed at."""
    case = caller.file(HOTLINE, a_report()).get_json()
    with services.engine.connect() as connection:
        rows = connection.execute(
            select(referrals.c.id, referrals.c.state, referrals.c.routed_at)
        ).all()
        payloads = connection.execute(
            select(outbox.c.referral_id, outbox.c.payload, outbox.c.created_at)
        ).all()
        actions = connection.execute(
            select(audit_entries.c.action, audit_entries.c.referral_id)
        ).all()
    routed_at = caller.clock.now()

    assert {row.id for row in rows} == {r["id"] for r in case["referrals"]}
    assert {row.state for row in rows} == {"routed"}
    assert {row.routed_at for row in rows} == {routed_at}
    assert {row.referral_id for row in payloads} == {row.id for row in rows}
    for row in payloads:
        message = json.loads(row.payload)
        assert message["referral_id"] == row.referral_id
        assert message["case_id"] == case["case_id"]
        assert row.created_at == routed_at
    assert sorted(action for action, _ in actions) == sorted(
        ["case_filed"] + ["referral_routed"] * len(rows)
    )
    assert {ref for action, ref in actions if action == "referral_routed"} == {
        row.id for row in rows
    }
    assert count(services, seen_tokens) == 1


def test_another_hotline_may_use_the_same_reference(caller, services):
    """References are unique per hotline, not across hotlines."""
    caller.file(HOTLINE, a_report())

    response = caller.file(OTHER_HOTLINE, a_report())

    assert response.status_code == 201
    assert count(services, cases) == 2


def test_a_hotline_follows_its_own_report(caller):
    """The filing hotline reads its case with referrals and deadlines."""
    filed = caller.file(HOTLINE, a_report()).get_json()

    response = caller.follow(HOTLINE, "TEST-0001")

    assert response.status_code == 200
    assert response.get_json() == filed


def test_another_hotline_cannot_read_the_report(caller):
    """Another hotline gets 404, exactly as for a reference never filed."""
    caller.file(HOTLINE, a_report())

    foreign = caller.follow(OTHER_HOTLINE, "TEST-0001")
    missing = caller.follow(HOTLINE, "NEVER-FILED")

    assert_problem(foreign, 404, "not-found")
    assert_problem(missing, 404, "not-found")
    assert foreign.get_json()["detail"] == missing.get_json()["detail"]


def test_a_contact_point_cannot_file_reports(caller):
    """Filing is for hotlines: a contact point's signed call gets 403."""
    response = caller.file("cp-th-police", a_report())

    assert_problem(response, 403, "forbidden")


# --- the signed call -------------------------------------------------------


def test_a_bad_signature_is_refused(caller, services):
    """A token signed with a key other than the registered one is refused."""
    response = caller.file(HOTLINE, a_report(), key=new_signing_key("EdDSA"))

    assert_problem(response, 401, "signature-invalid")
    assert count(services, cases) == 0


def test_a_token_for_another_router_is_refused(caller):
    """A token whose `aud` names another router is refused."""
    response = caller.file(HOTLINE, a_report(), audience="urn:another-router")

    assert_problem(response, 401, "audience-invalid")


def test_an_expired_token_is_refused(caller, clock):
    """A token past its `exp`, beyond the tolerated skew, is refused."""
    body = json.dumps(a_report()).encode()
    token = caller.token(HOTLINE, "POST", "/v1/reports", body, lifetime_seconds=120)
    clock.advance(seconds=120 + 61)

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert_problem(response, 401, "token-expired")


def test_a_token_within_the_skew_is_accepted(caller, clock):
    """60 seconds of clock skew past `exp` are tolerated."""
    body = json.dumps(a_report()).encode()
    token = caller.token(HOTLINE, "POST", "/v1/reports", body, lifetime_seconds=120)
    clock.advance(seconds=120 + 59)

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert response.status_code == 201


def test_a_token_living_longer_than_five_minutes_is_refused(caller):
    """`exp - iat` over 300 seconds is refused."""
    response = caller.file(HOTLINE, a_report(), lifetime_seconds=301)

    assert_problem(response, 401, "token-lifetime-too-long")


def test_a_replayed_token_is_refused(caller, services):
    """A `jti` seen before from the same issuer is refused, and nothing is kept."""
    body = json.dumps(a_report()).encode()
    token = caller.token(HOTLINE, "POST", "/v1/reports", body)
    first = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    replay = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert first.status_code == 201
    assert_problem(replay, 401, "token-replayed")
    assert count(services, cases) == 1


def test_a_body_changed_after_signing_is_refused(caller, services):
    """The token binds the exact body bytes: any change is refused."""
    signed = json.dumps(a_report()).encode()
    token = caller.token(HOTLINE, "POST", "/v1/reports", signed)
    altered = json.dumps(a_report(immediate_danger=True)).encode()

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=altered, token=token)

    assert_problem(response, 401, "body-digest-mismatch")
    assert count(services, cases) == 0


def test_a_token_for_another_uri_is_refused(caller):
    """`htu` must be this router's URI for the path called."""
    response = caller.file(HOTLINE, a_report(), url="http://localhost/v1/elsewhere")

    assert_problem(response, 401, "uri-mismatch")


def test_a_token_for_another_method_is_refused(caller):
    """`htm` must be the request's method."""
    body = json.dumps(a_report()).encode()
    token = caller.token(HOTLINE, "PUT", "/v1/reports", body)

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert_problem(response, 401, "method-mismatch")


def test_an_unknown_hotline_is_refused(caller):
    """An issuer with no registered key is refused."""
    response = caller.file(
        "hl-unknown", a_report(), key=new_signing_key("EdDSA"), issuer="hl-unknown"
    )

    assert_problem(response, 401, "unknown-party")


def test_a_call_without_a_token_is_refused(caller):
    """No Authorization header, no entry."""
    response = caller.client.post("/v1/reports", json=a_report())

    assert_problem(response, 401, "token-missing")


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_hmac_tokens_are_refused(caller, alg):
    """`none` and HMAC algorithms are refused before any key is looked at."""
    import jwt

    body = json.dumps(a_report()).encode()
    token = jwt.encode(
        {"iss": HOTLINE},
        None if alg == "none" else "a-shared-secret-of-enough-length-000",
        algorithm=alg,
        headers={"kid": "demo-1"},
    )

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert_problem(response, 401, "algorithm-refused")


# --- the body ----------------------------------------------------------------


def test_an_unknown_field_is_refused_with_its_path(caller):
    """Unknown fields are refused at every depth, each under its path."""
    report = a_report(colour="red")
    report["incident"]["weather"] = "synthetic"

    problem = assert_problem(caller.file(HOTLINE, report), 422, "validation-failed")

    assert problem["errors"]["colour"] == ["Unknown field."]
    assert problem["errors"]["incident.weather"] == ["Unknown field."]


def test_a_missing_field_is_named(caller):
    """A required field left out is named in `errors`."""
    report = a_report()
    del report["category"]

    problem = assert_problem(caller.file(HOTLINE, report), 422, "validation-failed")

    assert "category" in problem["errors"]


def test_a_wrong_type_is_named(caller):
    """A string where a boolean belongs is refused, and no value is echoed."""
    report = a_report(immediate_danger="SYNTHETIC-CANARY-yes")

    response = caller.file(HOTLINE, report)

    problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"]["immediate_danger"] == ["Not a valid boolean."]
    assert b"SYNTHETIC-CANARY" not in response.data


def test_an_unknown_country_is_refused(caller):
    """Countries are ISO 3166-1 alpha-2 codes."""
    report = a_report()
    report["suspects"][0]["nationalities"] = ["XX"]

    problem = assert_problem(caller.file(HOTLINE, report), 422, "validation-failed")

    assert "suspects.0.nationalities.0" in problem["errors"]


def test_a_report_needs_a_country_or_urls(caller):
    """Without `incident.country`, `online.urls` must be given."""
    report = a_report(incident={"place": "Synthetic town"})
    del report["online"]

    problem = assert_problem(caller.file(HOTLINE, report), 422, "validation-failed")

    assert "incident.country" in problem["errors"]


def test_a_body_that_is_not_json_is_refused(caller):
    """Malformed JSON is a 400 problem."""
    response = caller.send(HOTLINE, "POST", "/v1/reports", body=b"{not json")

    assert_problem(response, 400, "malformed-json")


def test_a_body_over_one_mebibyte_is_refused_with_413(caller, services):
    """The size limit holds before the body is read whole."""
    body = b'{"narrative": "' + b"x" * (1024 * 1024) + b'"}'

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body)

    assert_problem(response, 413, "payload-too-large")
    assert count(services, cases) == 0


def send_chunked(caller, body: bytes):
    """File `body` signed, without a Content-Length, as a chunked request
    reaches the app under gunicorn."""
    token = caller.token(HOTLINE, "POST", "/v1/reports", body)

    return caller.client.open(
        "/v1/reports",
        method="POST",
        input_stream=io.BytesIO(body),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_one_mebibyte_is_refused_with_413(caller, services):
    """Without a Content-Length the limit holds as the body is read: 413, not a
    signature refused over a body cut at the limit."""
    body = b'{"narrative": "' + b"x" * (1024 * 1024) + b'"}'

    response = send_chunked(caller, body)

    assert_problem(response, 413, "payload-too-large")
    assert count(services, cases) == 0


def test_a_chunked_body_within_the_limit_is_filed(caller, services):
    """A report sent chunked, without a Content-Length, is read whole."""
    response = send_chunked(caller, json.dumps(a_report()).encode())

    assert response.status_code == 201, response.get_data(as_text=True)
    assert count(services, cases) == 1


def test_an_unknown_path_is_a_problem_too(caller):
    """Routing errors are problem+json like every other error."""
    assert_problem(caller.client.get("/v1/nothing-here"), 404, "not-found")


def test_a_hotline_lists_its_own_cases_page_by_page(caller, clock):
    """Newest first, a bounded page at a time, and never another's cases."""
    for number in range(3):
        caller.file(HOTLINE, a_report(f"PAGE-{number}"))
        clock.advance(minutes=1)
    caller.file(OTHER_HOTLINE, a_report("NOT-MINE"))

    first = caller.send(HOTLINE, "GET", "/v1/reports?limit=2").get_json()
    second = caller.send(
        HOTLINE, "GET", f"/v1/reports?limit=2&before={first['next']}"
    ).get_json()

    assert [c["reference"] for c in first["cases"]] == ["PAGE-2", "PAGE-1"]
    assert [c["reference"] for c in second["cases"]] == ["PAGE-0"]
    assert second["next"] is None
    assert all(c["referrals"] for c in first["cases"] + second["cases"])


def test_a_page_size_over_the_bound_is_refused(caller):
    """At most 100 cases a page."""
    response = caller.send(HOTLINE, "GET", "/v1/reports?limit=1000")

    problem = assert_problem(response, 422, "validation-failed")
    assert "limit" in problem["errors"]


def test_a_forged_cursor_is_refused(caller):
    """A cursor that this API did not make is a validation error."""
    response = caller.send(HOTLINE, "GET", "/v1/reports?before=bm90LWEtY3Vyc29y")

    assert_problem(response, 422, "validation-failed")
