"""Signed calls: how a party proves who sent a request and what it said.

Every call carries a compact JWS signed with the caller's private key. Its
claims bind the method (`htm`), the URI (`htu`) and the exact raw body
(`body_sha256`), so a token cannot be lifted onto another request. The router
signs the calls it makes to contact points (webhooks) the same way.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

ALGORITHMS = ("EdDSA", "ES256")
MAX_LIFETIME_SECONDS = 300
CLOCK_SKEW_SECONDS = 60
REQUIRED_CLAIMS = ("iss", "aud", "iat", "exp", "jti", "htm", "htu", "body_sha256")


def body_digest(body: bytes) -> str:
    """base64url, without padding, of the SHA-256 of the raw body."""
    digest = hashlib.sha256(body).digest()

    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def target_uri(url: str) -> str:
    """The URI as `htu` carries it: without query and fragment."""
    parts = urlsplit(url)

    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def new_signing_key(alg: str = "EdDSA"):
    """A fresh private key for `alg`."""
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported algorithm {alg!r}")


def algorithm_of(key) -> str:
    """The JOSE algorithm for a private or public key object."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise ValueError("only the P-256 curve is accepted for ES256")
        return "ES256"
    raise ValueError("only Ed25519 and P-256 keys are accepted")


def private_key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


def load_private_key(pem: bytes):
    key = serialization.load_pem_private_key(pem, password=None)
    algorithm_of(key)

    return key


def load_public_key(pem: str):
    key = serialization.load_pem_public_key(pem.encode())
    algorithm_of(key)

    return key


def sign_call(
    private_key,
    *,
    kid: str,
    issuer: str,
    audience: str,
    method: str,
    url: str,
    body: bytes = b"",
    now: datetime,
    lifetime_seconds: int = 120,
    jti: str | None = None,
) -> str:
    """A token for one call; put it in `Authorization: Bearer <token>`."""
    issued_at = int(now.timestamp())
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + lifetime_seconds,
        "jti": jti or uuid.uuid4().hex,
        "htm": method.upper(),
        "htu": target_uri(url),
        "body_sha256": body_digest(body),
    }
    headers = {"kid": kid, "typ": "JWT"}

    return jwt.encode(
        claims, private_key, algorithm=algorithm_of(private_key), headers=headers
    )
