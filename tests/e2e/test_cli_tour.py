"""The README's tour through the command line: a key made by the CLI signs a
report that is routed, delivered, acknowledged and followed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from contracts.signed_calls import private_key_pem
from router.cli import main
from tests.e2e.conftest import wait_for
from tests.factories import a_report


@pytest.fixture
def clock():
    """The CLI signs with the wall clock, so the router starts from it too."""
    from router.clock import ManualClock

    return ManualClock(datetime.now(UTC))


@pytest.fixture
def cli(running):
    settings = running.services.settings
    environment = {
        "ROUTER_INSTANCE_DIR": str(settings.instance_dir),
        "DATABASE_URL": settings.database_url,
        "LOG_LEVEL": "WARNING",
    }

    def invoke(*arguments: str):
        result = CliRunner().invoke(main, list(arguments), env=environment)
        assert result.exit_code == 0, result.output

        return result.stdout

    return invoke


def test_a_hotline_registered_with_the_cli_is_followed_to_acknowledgement(
    running, cli, tmp_path, e2e_parties
):
    """keys generate, directory load, call: the whole tour on the command line."""
    key_file = tmp_path / "hotline.pem"
    public_key = cli("keys", "generate", "--alg", "ES256", "--out", str(key_file))
    directory_file = tmp_path / "directory.yaml"
    directory_file.write_text(
        json.dumps(
            {
                "synthetic": True,
                "hotlines": [
                    {
                        "id": "hl-cli-tour",
                        "name": "Synthetic CLI tour hotline",
                        "country": "SE",
                        "verified_on": "2026-12-01",
                        "keys": [
                            {"kid": "k1", "alg": "ES256", "public_key": public_key}
                        ],
                    }
                ],
            }
        )
    )
    assert "loaded 1 hotlines" in cli("directory", "load", str(directory_file))
    report_file = tmp_path / "report.json"
    report_file.write_text(json.dumps(a_report("CLI-TOUR-1")))
    common = ["--url", running.url]

    filed = json.loads(
        cli(
            "call",
            "POST",
            "/v1/reports",
            "--body",
            str(report_file),
            "--key",
            str(key_file),
            "--kid",
            "k1",
            "--party",
            "hl-cli-tour",
            *common,
        )
    )
    lead = next(r for r in filed["referrals"] if r["role"] == "lead")
    wait_for(
        lambda: (
            running.inbox_dir / lead["contact_point_id"] / f"{lead['id']}.json"
        ).exists()
    )
    point_key = tmp_path / "contact-point.pem"
    point_key.write_bytes(
        private_key_pem(e2e_parties[lead["contact_point_id"]].signing_key)
    )
    cli(
        "call",
        "POST",
        f"/v1/referrals/{lead['id']}/acknowledgement",
        "--key",
        str(point_key),
        "--kid",
        "demo-1",
        "--party",
        lead["contact_point_id"],
        *common,
    )
    followed = json.loads(
        cli(
            "call",
            "GET",
            "/v1/reports/CLI-TOUR-1",
            "--key",
            str(key_file),
            "--kid",
            "k1",
            "--party",
            "hl-cli-tour",
            *common,
        )
    )

    referral = next(r for r in followed["referrals"] if r["id"] == lead["id"])
    assert referral["state"] == "acknowledged"
    assert referral["acknowledged_within_target"] is True
