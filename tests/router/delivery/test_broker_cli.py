"""`referral-router broker status` and `broker replay-parked` through the
command line, against the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from router.persistence.tables import referrals
from tests.e2e.conftest import wait_for
from tests.factories import a_report
from tests.router.delivery.conftest import run_cli


def file_report(caller, reference: str) -> list[dict]:
    answer = caller.file("hl-at-demo", a_report(reference))
    assert answer.status_code == 201, answer.text

    return answer.json["referrals"]


def statuses(services) -> set[str]:
    query = select(referrals.c.delivery_status)
    with services.engine.connect() as connection:
        return set(connection.execute(query).scalars())


def figures(output: str) -> dict[str, str]:
    """The `name   value` lines of `broker status`, by name."""
    lines = [line for line in output.splitlines() if not line.startswith("parked ")]

    return {line[:32].strip(): line[32:].strip() for line in lines}


def test_status_shows_the_backlog_before_the_relay_runs(caller, settings):
    """Every routed referral waits in the outbox, queued; nothing is parked."""
    routed = file_report(caller, "CLI-0001")

    result = run_cli(settings, "broker", "status")

    assert result.exit_code == 0, result.output
    shown = figures(result.output)
    assert shown["outbox waiting"] == str(len(routed))
    assert shown["referrals queued"] == str(len(routed))
    assert shown["referrals parked"] == "0"
    assert shown[f"queue {settings.queue_prefix}.parked"] == "0"
    assert shown[f"queue {settings.queue_prefix}.unroutable"] == "0"


def test_status_lists_parked_referrals_and_replay_delivers_them(
    caller, services, settings, receiver, worker, relay
):
    """Destination down past every tier: `status` counts and lists the parked
    referrals and the parked queue's depth; once it is back, `replay-parked`
    sends them again and they are delivered."""
    receiver.down = True
    routed = file_report(caller, "CLI-0002")
    relay()
    wait_for(lambda: statuses(services) == {"parked"})
    parked_queue = f"queue {settings.queue_prefix}.parked"
    wait_for(
        lambda: (
            figures(run_cli(settings, "broker", "status").output)[parked_queue]
            == str(len(routed))
        )
    )

    status = run_cli(settings, "broker", "status")

    assert status.exit_code == 0, status.output
    shown = figures(status.output)
    assert shown["outbox waiting"] == "0"
    assert shown["referrals parked"] == str(len(routed))
    assert shown["referrals delivered"] == "0"
    assert shown["referrals parked, unroutable"] == "0"
    listed = [line.split() for line in status.output.splitlines()]
    assert sorted(line[1:] for line in listed if line[0] == "parked") == sorted(
        [r["id"], r["contact_point_id"], "undeliverable"] for r in routed
    )

    receiver.down = False
    replay = run_cli(settings, "broker", "replay-parked")

    assert replay.exit_code == 0, replay.output
    assert replay.output == f"replayed {len(routed)} parked referrals\n"
    wait_for(lambda: statuses(services) == {"delivered"})
    after = figures(run_cli(settings, "broker", "status").output)
    assert after["referrals parked"] == "0"
    assert after["referrals delivered"] == str(len(routed))
    assert after[parked_queue] == "0"
    for referral in routed:
        inbox = receiver.inbox_root / referral["contact_point_id"]
        assert (inbox / f"{referral['id']}.json").exists()


def test_replay_with_nothing_parked_replays_nothing(settings, services):
    """An empty parked queue: the command says so and succeeds."""
    result = run_cli(settings, "broker", "replay-parked")

    assert result.exit_code == 0, result.output
    assert result.output == "replayed 0 parked referrals\n"
