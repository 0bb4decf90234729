"""The signed-call rules that stand before every `/v1` view, each on its own:
several keys per party, claims required and in time, and the order in which a
call is judged (signature first, body after). Every key here is synthetic."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import jwt
import pytest

from contracts.signed_calls import new_signing_key, public_key_pem
from router.directory import store_directory
from router.persistence.tables import cases, seen_tokens
from tests.factories import a_report
from tests.router.api.test_reports import HOTLINE, assert_problem, count

ES256_KID = "synthetic-es256"


@pytest.fixture
def second_key(services, demo, clock):
    """The hotline registers a second key, ES256, beside its demo EdDSA one."""
    key = new_signing_key("ES256")
    document = copy.deepcopy(demo[0])
    entry = next(h for h in document["hotlines"] if h["id"] == HOTLINE)
    entry["keys"].append(
        {"kid": ES256_KID, "alg": "ES256", "public_key": public_key_pem(key)}
    )
    with services.engine.begin() as connection:
        store_directory(connection, document, clock.now())

    return key


def test_the_kid_picks_among_a_partys_keys(caller, second_key, services):
    """Each registered key verifies the calls that name its `kid`."""
    with_demo_key = caller.file(HOTLINE, a_report(reference="SYN-KID-1"))
    with_second_key = caller.file(
        HOTLINE, a_report(reference="SYN-KID-2"), key=second_key, kid=ES256_KID
    )

    assert with_demo_key.status_code == 201
    assert with_second_key.status_code == 201


def test_a_token_signed_with_another_of_the_partys_keys_is_refused(caller, second_key):
    """The `kid` names the key that must verify: the other one does not."""
    response = caller.file(HOTLINE, a_report(), key=second_key)  # kid: demo-1

    assert_problem(response, 401, "algorithm-refused")


def test_a_kid_the_party_never_registered_is_refused(caller, second_key):
    response = caller.file(HOTLINE, a_report(), kid="synthetic-unknown")

    assert_problem(response, 401, "unknown-party")


def test_a_token_issued_in_the_future_is_refused(caller, clock):
    """An `iat` past the tolerated skew is refused."""
    response = caller.file(HOTLINE, a_report(), now=clock.now() + timedelta(minutes=2))

    assert_problem(response, 401, "token-not-yet-valid")


@pytest.mark.parametrize("claim", ["jti", "htm", "htu", "body_sha256", "exp"])
def test_a_token_without_a_required_claim_is_refused(caller, parties, claim):
    """Each binding claim is required, not merely checked when present."""
    body = json.dumps(a_report()).encode()
    signed = caller.token(HOTLINE, "POST", "/v1/reports", body)
    claims = jwt.decode(signed, options={"verify_signature": False})
    del claims[claim]
    token = jwt.encode(
        claims,
        parties[HOTLINE].signing_key,
        algorithm="EdDSA",
        headers={"kid": "demo-1"},
    )

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    problem = assert_problem(response, 401, "claim-missing")
    assert claim in problem["detail"]


def test_the_signature_is_judged_before_the_body(caller, services):
    """A body that is not even JSON, under a bad signature, is refused for
    the signature: nothing parses a body before its call holds."""
    body = b"{not json, synthetic"
    token = caller.token(
        HOTLINE, "POST", "/v1/reports", body, key=new_signing_key("EdDSA")
    )

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    assert_problem(response, 401, "signature-invalid")


def test_a_signed_body_that_is_not_json_is_refused_after_the_signature(caller):
    """The same body under a good signature reaches the parser, which refuses
    it as malformed."""
    body = b"{not json, synthetic"

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body)

    assert_problem(response, 400, "malformed-json")


def test_a_refused_call_files_nothing(caller, services):
    caller.file(HOTLINE, a_report(), key=new_signing_key("EdDSA"))

    assert count(services, cases) == 0
    assert count(services, seen_tokens) == 0


@pytest.mark.parametrize("typ", ["at+jwt", "dpop+jwt"])
def test_a_token_of_another_type_is_refused(caller, parties, typ):
    """A JWS made for another purpose (an access token, a DPoP proof) is not a
    signed call, however well it is signed."""
    body = json.dumps(a_report()).encode()
    signed = caller.token(HOTLINE, "POST", "/v1/reports", body)
    claims = jwt.decode(signed, options={"verify_signature": False})
    token = jwt.encode(
        claims,
        parties[HOTLINE].signing_key,
        algorithm="EdDSA",
        headers={"kid": "demo-1", "typ": typ},
    )

    response = caller.send(HOTLINE, "POST", "/v1/reports", body=body, token=token)

    problem = assert_problem(response, 401, "token-malformed")
    assert "typ" in problem["detail"]
