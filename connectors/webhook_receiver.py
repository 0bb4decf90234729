"""A contact point's webhook endpoint: checks the router's signature, opens
the sealed content with its own key and writes each referral once.

The embedded mode runs one for the synthetic demo contact points, so that a
newcomer sees a referral arrive end to end; a contact point may run it as is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Flask, jsonify, request

from connectors.inbox import Inbox
from contracts.sealing import SealedContentError, open_sealed
from router.auth import PartyKey, bearer_token, verify_call
from router.clock import Clock, SystemClock
from router.errors import AuthenticationFailed


@dataclass(frozen=True)
class ReceivingParty:
    contact_point_id: str
    private_key: str
    inbox: Inbox


def create_receiver_app(
    *,
    router_id: str,
    router_key: PartyKey,
    base_url: str,
    parties: dict[str, ReceivingParty],
    clock: Clock | None = None,
) -> Flask:
    clock = clock or SystemClock()
    app = Flask("webhook_receiver")
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024

    def find_key(issuer: str, kid: str) -> PartyKey | None:
        return router_key if issuer == router_id else None

    @app.post("/contact-points/<contact_point_id>/referrals")
    def receive(contact_point_id: str):
        party = parties.get(contact_point_id)
        if party is None:
            return jsonify(error="unknown contact point"), 404
        body = request.get_data(cache=True)
        try:
            verify_call(
                bearer_token(request.headers.get("Authorization")),
                find_key=find_key,
                audience=contact_point_id,
                method="POST",
                url=base_url + request.path,
                body=body,
                now=clock.now(),
            )
        except AuthenticationFailed as error:
            return jsonify(error=error.slug), 401
        try:
            message = json.loads(body)
            if message.get("kind") == "notice":
                return _store_notice(party.inbox, message)
            content = open_sealed(party.private_key, message["content"])
            referral_id = message["referral_id"]
        except (ValueError, KeyError, TypeError, SealedContentError):
            return jsonify(error="unreadable referral message"), 400

        record = {
            key: message.get(key)
            for key in ("referral_id", "case_id", "role", "routed_at", "ack_due_at")
        }
        record["content"] = content
        stored = party.inbox.write_once(referral_id, record)

        return jsonify(received=referral_id, new=stored), 200

    return app


def _store_notice(inbox: Inbox, message: dict):
    """Reminders and escalations carry ids and deadlines only; keep each once."""
    notices = Inbox(inbox.folder / "notices")
    name = f"{message['notice']}-{int(message['notice_id'])}"
    stored = notices.write_once(name, message)

    return jsonify(received=name, new=stored), 200
