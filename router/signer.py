"""The router's own signing key, for the calls it makes to contact points."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from contracts.signed_calls import (
    algorithm_of,
    load_private_key,
    new_signing_key,
    private_key_pem,
    public_key_pem,
    sign_call,
)
from router.config import ConfigError, Settings


@dataclass(frozen=True)
class RouterSigner:
    router_id: str
    kid: str
    private_key: object

    @property
    def alg(self) -> str:
        return algorithm_of(self.private_key)

    @property
    def public_pem(self) -> str:
        return public_key_pem(self.private_key)

    def sign(
        self, *, audience: str, method: str, url: str, body: bytes, now: datetime
    ) -> str:
        return sign_call(
            self.private_key,
            kid=self.kid,
            issuer=self.router_id,
            audience=audience,
            method=method,
            url=url,
            body=body,
            now=now,
        )


def write_signing_key(path: Path) -> None:
    """Create a fresh Ed25519 key, readable by its owner alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_key_pem(new_signing_key("EdDSA")))


def load_signer(settings: Settings) -> RouterSigner:
    path = settings.signing_key_file
    try:
        key = load_private_key(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(
            f"ROUTER_SIGNING_KEY_FILE: {path} does not exist; "
            "create it with 'referral-router keys init-router'"
        ) from None
    except ValueError as error:
        raise ConfigError(f"ROUTER_SIGNING_KEY_FILE: {error}") from None

    return RouterSigner(settings.router_id, settings.signing_key_id, key)
