"""The synthetic demo: parties with keys, a contact point receiver, reports.

Everything here is synthetic. The demo directory (`routing_rules/demo/`)
names no real organisation; the keys of its parties are made on first start
and kept in the instance folder, never in the repository; the reports are
generated and say that they are synthetic.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from connectors.client import SignedClient
from contracts.sealing import new_encryption_key_pair
from contracts.signed_calls import (
    load_private_key,
    new_signing_key,
    private_key_pem,
    public_key_pem,
)
from router.directory import parse_directory
from routing_rules.yamlfile import parse_yaml

DEMO_DIRECTORY = (
    Path(__file__).resolve().parent.parent / "routing_rules" / "demo" / "directory.yaml"
)
DEMO_KID = "demo-1"
SYNTHETIC_NOTE = "SYNTHETIC DEMO REPORT - no real person or event is described."


@dataclass(frozen=True)
class DemoParty:
    party_id: str
    kind: str
    signing_key: object
    encryption_private_key: str | None = None


def _parties_file(instance_dir: Path) -> Path:
    return instance_dir / "demo" / "parties.json"


def _load_or_make_secrets(path: Path, document: dict) -> dict:
    secrets = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for section in ("hotlines", "contact_points"):
        for entry in document.get(section, []):
            if entry["id"] in secrets:
                continue
            secret = {"signing_key": private_key_pem(new_signing_key()).decode()}
            if section == "contact_points":
                private, public = new_encryption_key_pair()
                secret |= {"encryption_private": private, "encryption_public": public}
            secrets[entry["id"]] = secret
            changed = True
    if changed:
        _write_private(path, json.dumps(secrets, indent=1))
        for party_id, secret in secrets.items():
            _write_private(
                path.parent / "keys" / f"{party_id}.pem", secret["signing_key"]
            )

    return secrets


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: these are private keys."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def demo_directory(
    instance_dir: Path, receiver_base_url: str, source: Path = DEMO_DIRECTORY
) -> tuple[dict, dict[str, DemoParty]]:
    """The demo directory with keys filled in, and the parties' private keys.

    Webhook contact points are pointed at the demo receiver.
    """
    document = parse_yaml(source.read_text())
    secrets = _load_or_make_secrets(_parties_file(instance_dir), document)
    parties: dict[str, DemoParty] = {}
    for section, kind in (("hotlines", "hotline"), ("contact_points", "contact_point")):
        for entry in document.get(section, []):
            secret = secrets[entry["id"]]
            signing_key = load_private_key(secret["signing_key"].encode())
            entry["keys"] = [
                {
                    "kid": DEMO_KID,
                    "alg": "EdDSA",
                    "public_key": public_key_pem(signing_key),
                }
            ]
            if kind == "contact_point":
                entry["encryption_key"] = secret["encryption_public"]
                if entry.get("channel") == "webhook":
                    entry["webhook_url"] = (
                        f"{receiver_base_url}/contact-points/{entry['id']}/referrals"
                    )
            parties[entry["id"]] = DemoParty(
                party_id=entry["id"],
                kind=kind,
                signing_key=signing_key,
                encryption_private_key=secret.get("encryption_private"),
            )

    return parse_directory(document, "synthetic demo directory"), parties


_PLACES = {
    "TH": "Pattaya",
    "KH": "Siem Reap",
    "PH": "Angeles",
    "VN": "Nha Trang",
    "KE": "Mombasa",
    "BR": "Fortaleza",
    "DO": "Sosua",
    "ID": "Bali",
    "IN": "Goa",
    "MX": "Cancun",
}
_SOURCE_COUNTRIES = ("AT", "DE", "NL", "FR", "GB", "SE", "CH", "US", "AU")


def synthetic_report(
    rng: random.Random, reference: str, received_at: datetime, **overrides
) -> dict:
    """A report as a hotline would send it, wholly invented, and saying so."""
    incident_country = rng.choice(sorted(_PLACES))
    nationality = rng.choice(_SOURCE_COUNTRIES)
    report = {
        "reference": reference,
        "received_at": received_at.isoformat(),
        "category": "travel_tourism_offence",
        "immediate_danger": rng.random() < 0.15,
        "incident": {
            "country": incident_country,
            "place": _PLACES[incident_country],
            "occurred_on": (received_at - timedelta(days=rng.randint(1, 30)))
            .date()
            .isoformat(),
        },
        "suspects": [
            {
                "nationalities": [nationality],
                "residence_country": nationality,
                "description": "Synthetic suspect description for the demo.",
            }
        ],
        "victims": [{"age_band": rng.choice(["6-11", "12-15", "16-17"])}],
        "narrative": SYNTHETIC_NOTE,
        "reporter": {"consents_to_contact": rng.random() < 0.5, "language": "en"},
    }
    report.update(overrides)

    return report


def run_tour(
    *,
    base_url: str,
    router_id: str,
    inbox_root: Path,
    parties: dict[str, DemoParty],
    clock,
    count: int = 6,
    acknowledge_share: float = 0.67,
    wait_seconds: float = 30.0,
    say=print,
    seed: int | None = None,
) -> list[dict]:
    """File synthetic reports, wait for delivery, acknowledge some, report back.

    Returns the cases as their hotlines see them at the end.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    clients = {
        party.party_id: SignedClient(
            base_url, router_id, party.party_id, DEMO_KID, party.signing_key, clock
        )
        for party in parties.values()
    }
    hotlines = sorted(p.party_id for p in parties.values() if p.kind == "hotline")
    stamp = clock.now().strftime("%Y%m%d%H%M%S")
    filed = []
    for number in range(1, count + 1):
        hotline_id = hotlines[(number - 1) % len(hotlines)]
        report = synthetic_report(rng, f"DEMO-{stamp}-{number:03d}", clock.now())
        case = _ok(clients[hotline_id].file_report(report))
        filed.append((hotline_id, case))
        points = ", ".join(r["contact_point_id"] for r in case["referrals"])
        say(f"filed {case['reference']} from {hotline_id}: routed to {points}")

    _wait_for_inboxes(filed, inbox_root, wait_seconds, say)
    for _, case in filed:
        for referral in case["referrals"]:
            if rng.random() < acknowledge_share:
                client = clients[referral["contact_point_id"]]
                _ok(client.acknowledge(referral["id"], acknowledged_by="demo-desk-1"))

    followed = [
        _ok(clients[hotline_id].follow_report(case["reference"]))
        for hotline_id, case in filed
    ]
    for case in followed:
        for referral in case["referrals"]:
            say(_referral_line(case["reference"], referral))

    return followed


def _ok(response) -> dict:
    if response.status_code >= 400:
        raise RuntimeError(
            f"the router answered {response.status_code}: {response.text[:300]}"
        )

    return response.json()


def _referral_line(reference: str, referral: dict) -> str:
    met = referral["acknowledged_within_target"]
    verdict = {True: "acknowledged within 48 h", False: "acknowledged late"}.get(
        met, "awaiting acknowledgement"
    )

    return (
        f"  {reference}  {referral['contact_point_id']:<22} "
        f"{referral['role']:<9} {referral['state']:<13} {verdict}"
    )


def _wait_for_inboxes(filed, inbox_root: Path, wait_seconds: float, say) -> None:
    """Wait until each referral appears in its contact point's demo inbox."""
    expected = {
        inbox_root / referral["contact_point_id"] / f"{referral['id']}.json"
        for _, case in filed
        for referral in case["referrals"]
    }
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        arrived = {path for path in expected if path.exists()}
        if arrived == expected:
            break
        time.sleep(0.2)
    say(f"delivered to the demo contact points: {len(arrived)} of {len(expected)}")


DEMO_COORDINATOR = "demo-coordinator"


def ensure_demo_coordinator(engine, instance_dir: Path, now: datetime) -> str:
    """A synthetic coordinator account for the demo; returns its password.

    The password is made on first start and kept beside the demo keys,
    readable by its owner only; its background check is a synthetic one that
    holds for a year.
    """
    from router.dashboard.accounts import AccountError, create_account

    path = instance_dir / "demo" / "coordinator-password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    try:
        create_account(
            engine,
            username=DEMO_COORDINATOR,
            password=password,
            role="coordinator",
            background_checked_on=now.date(),
            background_check_expires_on=(now + timedelta(days=365)).date(),
            now=now,
        )
    except AccountError as error:
        raise RuntimeError(
            f"{DEMO_COORDINATOR} exists but its password file is gone: {error}"
        ) from None
    _write_private(path, password)

    return password
