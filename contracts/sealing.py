"""Sealed content: a referral's part of a report, readable only by its receiver.

Content is sealed to the contact point's X25519 public key with a libsodium
sealed box (an ephemeral key per message, XSalsa20-Poly1305). The router holds
only public keys, so neither the router's broker nor its logs can open it.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

SEALED_BOX = "x25519-xsalsa20-poly1305-sealedbox"


class SealedContentError(ValueError):
    """The sealed content cannot be opened with this key, or is malformed."""


def public_key_from_text(encoded: str) -> PublicKey:
    """Read a base64 X25519 public key as the directory holds it."""
    raw = base64.b64decode(encoded, validate=True)
    if len(raw) != PublicKey.SIZE:
        raise ValueError(f"an X25519 public key has {PublicKey.SIZE} bytes")

    return PublicKey(raw)


def new_encryption_key_pair() -> tuple[str, str]:
    """A fresh (private, public) pair, both base64, for a contact point."""
    private = PrivateKey.generate()
    encode = base64.b64encode

    return (
        encode(bytes(private)).decode(),
        encode(bytes(private.public_key)).decode(),
    )


def seal(public_key: PublicKey, content: dict[str, Any]) -> dict[str, str]:
    """Seal a JSON-ready document to one public key."""
    plaintext = json.dumps(content, separators=(",", ":"), sort_keys=True)
    ciphertext = SealedBox(public_key).encrypt(plaintext.encode())

    return {"alg": SEALED_BOX, "ciphertext": base64.b64encode(ciphertext).decode()}


def open_sealed(private_key_text: str, sealed: dict[str, str]) -> dict[str, Any]:
    """Open what `seal` made, with the receiver's base64 private key."""
    if sealed.get("alg") != SEALED_BOX:
        raise SealedContentError("unknown sealing algorithm")
    try:
        private = PrivateKey(base64.b64decode(private_key_text, validate=True))
        ciphertext = base64.b64decode(sealed["ciphertext"], validate=True)
        plaintext = SealedBox(private).decrypt(ciphertext)
    except (CryptoError, KeyError, TypeError, ValueError) as error:
        raise SealedContentError("the content cannot be opened") from error

    return json.loads(plaintext)
