"""Case content never reaches the logs, at any level, on either backend."""

from __future__ import annotations

import json

from tests.e2e.conftest import wait_for
from tests.factories import a_report

CANARY = "SYNTHETIC-CANARY-7f3a"


def test_a_canary_in_every_free_text_field_stays_out_of_the_logs(
    json_logs, running, client_for
):
    """File, deliver, acknowledge, follow: the canary appears in no log line."""
    report = a_report(
        "CANARY-0001",
        narrative=f"{CANARY} narrative",
        incident={"country": "TH", "place": f"{CANARY} place"},
        online={"urls": [f"https://example.org/{CANARY}"]},
    )
    report["suspects"][0]["description"] = f"{CANARY} description"
    case = client_for("hl-at-demo").file_report(report).json()
    wait_for(
        lambda: all(
            (running.inbox_dir / r["contact_point_id"] / f"{r['id']}.json").exists()
            for r in case["referrals"]
        )
    )
    for referral in case["referrals"]:
        client_for(referral["contact_point_id"]).acknowledge(referral["id"])
    client_for("hl-at-demo").follow_report("CANARY-0001")
    bad = dict(report, narrative=f"{CANARY} other")
    conflict = client_for("hl-at-demo").file_report(bad)

    logged = json_logs.getvalue()
    assert conflict.status_code == 409
    assert CANARY not in conflict.text
    assert '"event": "request"' in logged
    assert CANARY not in logged


def test_every_line_of_a_request_or_a_delivery_carries_its_ids(
    json_logs, running, client_for
):
    """The intake's request line names the request and the case it filed; the
    delivery's lines name the referral they deliver."""
    case = client_for("hl-at-demo").file_report(a_report("IDS-0001")).json()
    referral_ids = {r["id"] for r in case["referrals"]}

    def logged(event: str) -> list[dict]:
        lines = (json.loads(line) for line in json_logs.getvalue().splitlines())
        return [line for line in lines if line.get("event") == event]

    # The worker logs a delivery once the webhook has answered, a moment after
    # the receiver stored it: wait for as many lines as referrals.
    wait_for(lambda: len(logged("referral_delivered")) >= len(referral_ids))

    filed = [line for line in logged("request") if line.get("route") == "/v1/reports"]
    assert filed, "no request line for the intake"
    assert all(len(line["request_id"]) >= 8 for line in filed)
    assert case["case_id"] in {line.get("case_id") for line in filed}
    delivered = [line.get("referral_id") for line in logged("referral_delivered")]
    assert sorted(delivered) == sorted(referral_ids)
