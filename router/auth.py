"""Verifying signed calls, and refusing replays.

A call is checked in full (algorithm, key, signature, audience, lifetime,
method, URI and body digest) before its body is parsed. The `jti` is then
claimed in the same transaction as the call's work, so a replayed token is
refused and a refused call leaves no trace.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from contracts.signed_calls import (
    ALGORITHMS,
    CLOCK_SKEW_SECONDS,
    MAX_LIFETIME_SECONDS,
    REQUIRED_CLAIMS,
    body_digest,
)
from router.errors import AuthenticationFailed
from router.persistence.tables import seen_tokens


@dataclass(frozen=True, slots=True)
class PartyKey:
    """A verifying key registered in the directory."""

    party_id: str
    party_kind: str
    alg: str
    key: object


@dataclass(frozen=True, slots=True)
class VerifiedCall:
    """Who made a call whose signature and claims all hold."""

    party_id: str
    party_kind: str
    jti: str
    expires_at: datetime


def _refuse(slug: str, detail: str) -> AuthenticationFailed:
    return AuthenticationFailed(detail, slug=slug)


def _unverified_parts(token: str) -> tuple[dict, dict]:
    try:
        header_part, payload_part, _ = token.split(".")
        header = json.loads(_b64url(header_part))
        payload = json.loads(_b64url(payload_part))
    except (ValueError, UnicodeDecodeError):
        raise _refuse("token-malformed", "The token is not a compact JWS.") from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise _refuse("token-malformed", "The token is not a compact JWS.")

    return header, payload


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def bearer_token(authorization: str | None) -> str:
    """The token from an `Authorization: Bearer` header."""
    if not authorization:
        raise _refuse("token-missing", "The call carries no Authorization header.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("token-missing", "Authorization must be 'Bearer <token>'.")

    return token.strip()


def verify_call(
    token: str,
    *,
    find_key,
    audience: str,
    method: str,
    url: str,
    body: bytes,
    now: datetime,
) -> VerifiedCall:
    """Check a token against its registered key and the request it came with.

    `find_key(party_id, kid)` returns a `PartyKey` or None.
    """
    header, unverified = _unverified_parts(token)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise _refuse(
            "algorithm-refused",
            f"The algorithm must be one of {', '.join(ALGORITHMS)}.",
        )
    if str(header.get("typ", "JWT")).upper() != "JWT":
        raise _refuse("token-malformed", "The token's 'typ' must be 'JWT'.")
    kid, issuer = header.get("kid"), unverified.get("iss")
    if not isinstance(kid, str) or not isinstance(issuer, str):
        raise _refuse("token-malformed", "The token needs a 'kid' and an 'iss'.")
    party_key = find_key(issuer, kid)
    if party_key is None:
        raise _refuse("unknown-party", "No key is registered for this issuer and kid.")
    if party_key.alg != alg:
        raise _refuse("algorithm-refused", "The key registered is for another alg.")

    claims = _decode(token, party_key, audience)
    _check_lifetime(claims, now)
    _check_binding(claims, method=method, url=url, body=body)

    return VerifiedCall(
        party_id=party_key.party_id,
        party_kind=party_key.party_kind,
        jti=claims["jti"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


def _decode(token: str, party_key: PartyKey, audience: str) -> dict:
    # Lifetimes are checked against the router's injected clock, not by PyJWT.
    options = {
        "require": list(REQUIRED_CLAIMS),
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
    }
    try:
        return jwt.decode(
            token,
            party_key.key,
            algorithms=[party_key.alg],
            audience=audience,
            options=options,
        )
    except jwt.InvalidSignatureError:
        raise _refuse("signature-invalid", "The signature does not verify.") from None
    except jwt.InvalidAudienceError:
        raise _refuse(
            "audience-invalid", "The token is addressed to another router."
        ) from None
    except jwt.MissingRequiredClaimError as error:
        raise _refuse(
            "claim-missing", f"The token lacks the claim '{error.claim}'."
        ) from None
    except jwt.PyJWTError:
        raise _refuse("token-malformed", "The token cannot be decoded.") from None


def _check_lifetime(claims: dict, now: datetime) -> None:
    issued_at, expires_at = claims["iat"], claims["exp"]
    if not all(isinstance(v, int | float) for v in (issued_at, expires_at)):
        raise _refuse("token-malformed", "'iat' and 'exp' must be NumericDates.")
    if expires_at - issued_at > MAX_LIFETIME_SECONDS:
        raise _refuse(
            "token-lifetime-too-long",
            f"'exp' may be at most {MAX_LIFETIME_SECONDS} s after 'iat'.",
        )
    moment = now.timestamp()
    if expires_at + CLOCK_SKEW_SECONDS < moment:
        raise _refuse("token-expired", "The token has expired.")
    if issued_at - CLOCK_SKEW_SECONDS > moment:
        raise _refuse("token-not-yet-valid", "The token is issued in the future.")
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 128:
        raise _refuse("token-malformed", "'jti' must be a string of 1 to 128.")


def _check_binding(claims: dict, *, method: str, url: str, body: bytes) -> None:
    if claims["htm"] != method:
        raise _refuse("method-mismatch", "'htm' does not match the request method.")
    if claims["htu"] != url:
        raise _refuse("uri-mismatch", "'htu' does not match the request URI.")
    if claims["body_sha256"] != body_digest(body):
        raise _refuse(
            "body-digest-mismatch", "'body_sha256' does not match the body sent."
        )


_CLAIM_JTI = insert(seen_tokens)


def claim_token(connection: Connection, call: VerifiedCall) -> None:
    """Record the call's `jti`; refuse it if its issuer used it before.

    Rows live until the token's expiry plus the tolerated skew, after which
    the lifetime check refuses the token anyway and housekeeping drops them.
    Claim it first in the transaction: a refusal aborts the whole of it.
    """
    row = {"issuer": call.party_id, "jti": call.jti, "expires_at": call.expires_at}
    try:
        connection.execute(_CLAIM_JTI, row)
    except IntegrityError:
        raise refuse_replay() from None


def refuse_replay() -> AuthenticationFailed:
    """The refusal of a call whose issuer used its `jti` before."""
    return _refuse("token-replayed", "This token has been used before.")
