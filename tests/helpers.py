"""Helpers to sign calls in tests, and to bend them in the ways attacks do."""

from __future__ import annotations

import json
from typing import Any

from contracts.signed_calls import sign_call
from router.demo import DEMO_KID


class Caller:
    """Sends signed calls through a Flask test client."""

    def __init__(self, client, parties, clock, settings) -> None:
        self.client = client
        self.parties = parties
        self.clock = clock
        self.settings = settings

    def token(
        self,
        party_id: str,
        method: str,
        path: str,
        body: bytes,
        **overrides: Any,
    ) -> str:
        key = overrides.pop("key", None) or self.parties[party_id].signing_key
        arguments = {
            "kid": DEMO_KID,
            "issuer": party_id,
            "audience": self.settings.router_id,
            "method": method,
            "url": self.settings.public_base_url + path,
            "body": body,
            "now": self.clock.now(),
        }
        arguments.update(overrides)

        return sign_call(key, **arguments)

    def send(
        self,
        party_id: str,
        method: str,
        path: str,
        document: Any = None,
        *,
        body: bytes | None = None,
        token: str | None = None,
        headers: dict | None = None,
        **overrides: Any,
    ):
        """Sign and send; `body` sends raw bytes, `token` a ready-made token."""
        if body is None:
            body = b"" if document is None else json.dumps(document).encode()
        if token is None:
            token = self.token(party_id, method, path, body, **overrides)
        sent_headers = {"Authorization": f"Bearer {token}"}
        if body:
            sent_headers["Content-Type"] = "application/json"
        sent_headers.update(headers or {})

        return self.client.open(path, method=method, data=body, headers=sent_headers)

    def file(self, hotline_id: str, report: dict, **overrides: Any):
        return self.send(hotline_id, "POST", "/v1/reports", report, **overrides)

    def follow(self, hotline_id: str, reference: str, **overrides: Any):
        return self.send(hotline_id, "GET", f"/v1/reports/{reference}", **overrides)

    def acknowledge(self, contact_point_id: str, referral_id: str, **document):
        path = f"/v1/referrals/{referral_id}/acknowledgement"

        return self.send(contact_point_id, "POST", path, document)


def cli_environment(settings) -> dict[str, str]:
    """The environment under which the CLI sees the same router as `settings`."""
    return {
        "ROUTER_INSTANCE_DIR": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "ROUTER_SIGNING_KEY_FILE": str(settings.signing_key_file),
        "CONTENT_KEYS": settings.content_keys,
        "LOG_LEVEL": "WARNING",
    }
