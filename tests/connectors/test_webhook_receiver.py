"""The webhook channel against a real receiver over HTTP: a timeout is retried,
a bad signature is refused with 401, and a referral delivered twice is stored
once. Every key, id and report here is synthetic."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from werkzeug.serving import make_server

from connectors.base import Delivery
from connectors.inbox import Inbox
from connectors.webhook import WebhookChannel
from connectors.webhook_receiver import ReceivingParty, create_receiver_app
from contracts.sealing import new_encryption_key_pair, public_key_from_text, seal
from contracts.signed_calls import new_signing_key
from router.auth import PartyKey
from router.clock import SystemClock
from router.errors import PermanentFailure, RetryLater
from router.signer import RouterSigner
from tests.conftest import free_port

ROUTER_ID = "urn:referral-router:test"
CONTACT_POINT = "cp-test-webhook"
OTHER_POINT = "cp-test-other"


class RecordingServer:
    """The receiver app behind a real HTTP server, recording every answer;
    `slow_first` makes the first calls wait before they are handled."""

    def __init__(self, app) -> None:
        self._app = app
        self.answers: list[tuple[int, dict]] = []
        self.slow_first: list[float] = []

    def __call__(self, environ, start_response):
        if self.slow_first:
            time.sleep(self.slow_first.pop(0))
        status: list[int] = []

        def recording(line, headers, exc_info=None):
            status.append(int(line.split()[0]))
            return start_response(line, headers, exc_info)

        body = b"".join(self._app(environ, recording))
        self.answers.append((status[0], json.loads(body)))

        return [body]


@pytest.fixture
def router_signer():
    return RouterSigner(ROUTER_ID, "router-1", new_signing_key("EdDSA"))


@pytest.fixture
def keys():
    """The contact point's (private, public) encryption keys."""
    return new_encryption_key_pair()


@pytest.fixture
def inbox(tmp_path):
    return Inbox(tmp_path / "inbox")


@pytest.fixture
def server(router_signer, keys, inbox, tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    router_key = PartyKey(
        ROUTER_ID, "router", router_signer.alg, router_signer.private_key.public_key()
    )
    parties = {
        CONTACT_POINT: ReceivingParty(CONTACT_POINT, keys[0], inbox),
        OTHER_POINT: ReceivingParty(
            OTHER_POINT, new_encryption_key_pair()[0], Inbox(tmp_path / "other")
        ),
    }
    app = create_receiver_app(
        router_id=ROUTER_ID,
        router_key=router_key,
        base_url=base_url,
        parties=parties,
        clock=SystemClock(),
    )
    recording = RecordingServer(app)
    http = make_server("127.0.0.1", port, recording, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    recording.base_url = base_url
    yield recording
    http.shutdown()
    thread.join(timeout=5)


def address(server, contact_point_id: str = CONTACT_POINT) -> str:
    return f"{server.base_url}/contact-points/{contact_point_id}/referrals"


def a_delivery(server, keys) -> Delivery:
    """One referral message as the router publishes it: ids and sealed content."""
    referral_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    message = {
        "protocol": "1",
        "referral_id": referral_id,
        "case_id": str(uuid.uuid4()),
        "contact_point_id": CONTACT_POINT,
        "role": "lead",
        "routed_at": now.isoformat(),
        "ack_due_at": (now + timedelta(hours=48)).isoformat(),
        "content": seal(
            public_key_from_text(keys[1]), {"report": {"narrative": "Synthetic."}}
        ),
    }
    body = json.dumps(message).encode()

    return Delivery(referral_id, CONTACT_POINT, address(server), body)


def channel(signer, **options) -> WebhookChannel:
    return WebhookChannel(signer, SystemClock(), sleep=lambda _: None, **options)


def test_the_same_referral_delivered_twice_is_stored_once(
    server, keys, inbox, router_signer
):
    """The second delivery is accepted (200) and recognised as seen."""
    delivery = a_delivery(server, keys)
    webhook = channel(router_signer, attempts=1)

    webhook.deliver(delivery)
    webhook.deliver(delivery)

    assert inbox.referral_ids() == [delivery.referral_id]
    assert server.answers == [
        (200, {"received": delivery.referral_id, "new": True}),
        (200, {"received": delivery.referral_id, "new": False}),
    ]
    assert inbox.read(delivery.referral_id)["content"] == {
        "report": {"narrative": "Synthetic."}
    }


def test_a_webhook_that_times_out_is_retried_then_delivered(
    server, keys, inbox, router_signer, json_logs
):
    """The first call outlasts the timeout; the channel retries and the second
    call lands. The receiver handled both and stored the referral once."""
    delivery = a_delivery(server, keys)
    server.slow_first = [1.5]
    webhook = channel(router_signer, timeout=0.5, attempts=2)

    webhook.deliver(delivery)

    retries = [
        json.loads(line)
        for line in json_logs.getvalue().splitlines()
        if '"webhook_retry"' in line
    ]
    assert [(line["attempt"], line["reason"]) for line in retries] == [
        (1, "ReadTimeout")
    ]
    wait_until = time.monotonic() + 5
    while len(server.answers) < 2 and time.monotonic() < wait_until:
        time.sleep(0.05)
    assert sorted(answer["new"] for _, answer in server.answers) == [False, True]
    assert inbox.referral_ids() == [delivery.referral_id]


def test_a_webhook_that_always_times_out_is_left_for_a_retry_tier(
    server, keys, router_signer
):
    """Every attempt times out: the channel says `RetryLater`, not permanent."""
    delivery = a_delivery(server, keys)
    server.slow_first = [1.0, 1.0]
    webhook = channel(router_signer, timeout=0.3, attempts=2)

    with pytest.raises(RetryLater, match="ReadTimeout"):
        webhook.deliver(delivery)


def test_a_call_signed_with_another_key_is_refused_with_401(server, keys, inbox):
    """An impostor holding the router's id but not its key: 401, a permanent
    failure for the channel, and nothing stored."""
    impostor = RouterSigner(ROUTER_ID, "router-1", new_signing_key("EdDSA"))
    delivery = a_delivery(server, keys)

    with pytest.raises(PermanentFailure, match="HTTP 401"):
        channel(impostor, attempts=3).deliver(delivery)

    assert [status for status, _ in server.answers] == [401]
    assert inbox.referral_ids() == []


@pytest.mark.parametrize(
    "bend",
    ["body changed after signing", "signed for another contact point", "no token"],
)
def test_a_call_whose_signature_does_not_hold_is_refused_with_401(
    server, keys, inbox, router_signer, bend
):
    """The router's own key, but the token does not match this call."""
    delivery = a_delivery(server, keys)
    url = delivery.address
    signed_body, audience = delivery.body, CONTACT_POINT
    if bend == "body changed after signing":
        signed_body = delivery.body.replace(b'"lead"', b'"support"')
    if bend == "signed for another contact point":
        audience = OTHER_POINT
    token = router_signer.sign(
        audience=audience,
        method="POST",
        url=url,
        body=signed_body,
        now=datetime.now(UTC),
    )
    headers = {"Content-Type": "application/json"}
    if bend != "no token":
        headers["Authorization"] = f"Bearer {token}"

    answer = requests.post(url, data=delivery.body, headers=headers, timeout=5)

    assert answer.status_code == 401
    assert inbox.referral_ids() == []
