"""A logged-in coordinator on the router's app, on each backend."""

from __future__ import annotations

import pytest

from tests.dashboard_helpers import add_account, log_in


@pytest.fixture
def coordinator(services):
    return add_account(services)


@pytest.fixture
def dashboard(app, coordinator):
    """A test client logged in as a coordinator."""
    client = app.test_client()
    response = log_in(client)
    assert response.status_code == 302, response.get_data(as_text=True)

    return client
