"""`referral-router referrals revoke`: a coordinator withdraws a referral."""

from __future__ import annotations

from click.testing import CliRunner

from router.cli import main
from tests.factories import a_single_referral_report
from tests.helpers import cli_environment
from tests.router.api.test_reports import HOTLINE


def revoke(settings, *arguments):
    environment = cli_environment(settings)

    return CliRunner().invoke(
        main, ["referrals", "revoke", *arguments], env=environment
    )


def test_a_coordinator_revokes_and_reroutes(caller, settings):
    """The referral is revoked and the next contact point takes over."""
    lead = caller.file(HOTLINE, a_single_referral_report()).get_json()["referrals"][0]

    result = revoke(settings, lead["id"], "--by", "coordinator-1", "--reroute")

    assert result.exit_code == 0, result.output
    case = caller.follow(HOTLINE, "TEST-0001").get_json()
    states = {r["contact_point_id"]: r["state"] for r in case["referrals"]}
    assert states == {"cp-th-police": "revoked", "cp-asean-bureau": "routed"}


def test_revoking_twice_is_refused_with_a_clear_message(caller, settings):
    """A revoked referral cannot be revoked again."""
    lead = caller.file(HOTLINE, a_single_referral_report()).get_json()["referrals"][0]
    revoke(settings, lead["id"], "--by", "coordinator-1")

    result = revoke(settings, lead["id"], "--by", "coordinator-1")

    assert result.exit_code == 1
    assert "A referral that is revoked cannot be revoked" in result.output
