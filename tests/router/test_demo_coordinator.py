"""The embedded demo's synthetic coordinator account."""

from __future__ import annotations

from router.dashboard.accounts import authenticate
from router.demo import DEMO_COORDINATOR, ensure_demo_coordinator


def test_the_demo_coordinator_logs_in_with_the_password_printed(
    services, settings, clock
):
    """Made once, the same password is given at every start, and it works."""
    first = ensure_demo_coordinator(services.engine, settings.instance_dir, clock.now())
    again = ensure_demo_coordinator(services.engine, settings.instance_dir, clock.now())

    account = authenticate(
        services.engine, DEMO_COORDINATOR, first, address="127.0.0.1", now=clock.now()
    )

    assert again == first
    assert account is not None
    assert account.role == "coordinator"
