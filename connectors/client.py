"""A reference client of protocol v1: signs each call as the protocol says.

Member hotlines and contact points may use it as it is, or read it as a worked
example before writing their own in another language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

from contracts.signed_calls import sign_call
from router.clock import Clock, SystemClock


@dataclass
class SignedClient:
    base_url: str
    router_id: str
    party_id: str
    kid: str
    private_key: Any
    clock: Clock = field(default_factory=SystemClock)
    timeout: float = 10.0
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, document: Any = None) -> requests.Response:
        """Send one signed call; `document` is sent as the JSON body."""
        body = b"" if document is None else json.dumps(document).encode()
        url = self.base_url.rstrip("/") + path
        token = sign_call(
            self.private_key,
            kid=self.kid,
            issuer=self.party_id,
            audience=self.router_id,
            method=method,
            url=url,
            body=body,
            now=self.clock.now(),
        )
        headers = {"Authorization": f"Bearer {token}"}
        if body:
            headers["Content-Type"] = "application/json"

        return self.session.request(
            method, url, data=body, headers=headers, timeout=self.timeout
        )

    def file_report(self, report: dict) -> requests.Response:
        return self.call("POST", "/v1/reports", report)

    def follow_report(self, reference: str) -> requests.Response:
        return self.call("GET", f"/v1/reports/{reference}")

    def acknowledge(self, referral_id: str, **body: Any) -> requests.Response:
        return self.call("POST", f"/v1/referrals/{referral_id}/acknowledgement", body)

    def report_follow_up(
        self, referral_id: str, outcome: str, *, note: str | None = None, final=False
    ) -> requests.Response:
        body = {"outcome": outcome, "final": final}
        if note:
            body["note"] = note

        return self.call("POST", f"/v1/referrals/{referral_id}/follow-up", body)

    def decline(self, referral_id: str, reason: str) -> requests.Response:
        path = f"/v1/referrals/{referral_id}/decline"

        return self.call("POST", path, {"reason": reason})

    def inbox(self, *, limit: int = 50, after: int = 0) -> requests.Response:
        return self.call("GET", f"/v1/inbox?limit={limit}&after={after}")
