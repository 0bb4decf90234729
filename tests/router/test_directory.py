"""The directory file: validated whole, with errors that name the entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contracts.sealing import new_encryption_key_pair
from contracts.signed_calls import new_signing_key, public_key_pem
from router.directory import DirectoryCache, parse_directory, store_directory
from router.errors import DirectoryError
from router.persistence.tables import hotlines, party_keys


def a_hotline(**overrides) -> dict:
    entry = {
        "id": "hl-synthetic",
        "name": "Synthetic hotline",
        "country": "AT",
        "verified_on": "2026-11-01",
        "keys": [
            {
                "kid": "k1",
                "alg": "EdDSA",
                "public_key": public_key_pem(new_signing_key("EdDSA")),
            }
        ],
    }
    entry.update(overrides)

    return entry


def a_contact_point(**overrides) -> dict:
    entry = {
        "id": "cp-synthetic",
        "name": "Synthetic contact point",
        "kind": "police",
        "country": "TH",
        "channel": "webhook",
        "webhook_url": "https://cp.example.org/referrals",
        "encryption_key": new_encryption_key_pair()[1],
        "verified_on": "2026-11-01",
    }
    entry.update(overrides)

    return entry


def directory(*, hotlines_=(), contact_points=()) -> dict:
    return {"hotlines": list(hotlines_), "contact_points": list(contact_points)}


def refusal(document: dict) -> str:
    with pytest.raises(DirectoryError) as raised:
        parse_directory(document, "directory.yaml")

    return str(raised.value)


def test_a_valid_directory_loads():
    """Hotlines and contact points with their keys pass validation."""
    loaded = parse_directory(
        directory(hotlines_=[a_hotline()], contact_points=[a_contact_point()])
    )

    assert loaded["hotlines"][0]["id"] == "hl-synthetic"
    assert loaded["contact_points"][0]["suspended"] is False


def test_an_error_names_the_file_the_entry_and_the_field():
    """A bad country is reported with its place in the file."""
    message = refusal(directory(hotlines_=[a_hotline(country="XX")]))

    assert message == (
        "directory.yaml: hotlines[0] (hl-synthetic): country: "
        "Not an ISO 3166-1 alpha-2 country code."
    )


def test_a_key_that_is_not_a_public_key_is_refused():
    """A public key must parse as Ed25519 or P-256."""
    bad_key = {"kid": "k1", "alg": "EdDSA", "public_key": "not a key"}

    message = refusal(directory(hotlines_=[a_hotline(keys=[bad_key])]))

    assert "hotlines[0] (hl-synthetic): keys.0.public_key" in message


def test_a_key_declared_with_the_wrong_algorithm_is_refused():
    """An Ed25519 key declared as ES256 is refused, naming the real algorithm."""
    key = {
        "kid": "k1",
        "alg": "ES256",
        "public_key": public_key_pem(new_signing_key("EdDSA")),
    }

    message = refusal(directory(hotlines_=[a_hotline(keys=[key])]))

    assert "keys.0.alg: The key is an EdDSA key." in message


def test_an_unknown_field_is_refused():
    """Typos do not pass silently."""
    message = refusal(directory(contact_points=[a_contact_point(webhok_url="x")]))

    assert "contact_points[0] (cp-synthetic): webhok_url: Unknown field." in message


def test_a_webhook_contact_point_needs_its_url():
    """The webhook channel without a URL is refused."""
    point = a_contact_point()
    del point["webhook_url"]

    message = refusal(directory(contact_points=[point]))

    assert "webhook_url: A webhook contact point needs one." in message


def test_an_id_used_by_two_parties_is_refused():
    """Party ids are unique across hotlines and contact points."""
    document = directory(
        hotlines_=[a_hotline(id="shared-id")],
        contact_points=[a_contact_point(id="shared-id")],
    )

    assert refusal(document) == "directory.yaml: the id shared-id is used twice"


def test_storing_twice_replaces_entries_and_keys(services, clock):
    """Loading again updates an entry and replaces its keys."""
    first = parse_directory(directory(hotlines_=[a_hotline()]))
    second = parse_directory(directory(hotlines_=[a_hotline(name="Renamed")]))

    with services.engine.begin() as connection:
        store_directory(connection, first, clock.now())
        store_directory(connection, second, clock.now())

    with services.engine.connect() as connection:
        name = connection.execute(
            select(hotlines.c.name).where(hotlines.c.id == "hl-synthetic")
        ).scalar_one()
        keys = (
            connection.execute(
                select(party_keys.c.public_key).where(
                    party_keys.c.party_id == "hl-synthetic"
                )
            )
            .scalars()
            .all()
        )
    assert name == "Renamed"
    assert keys == [second["hotlines"][0]["keys"][0]["public_key"]]


def test_a_key_registered_after_the_snapshot_is_found_at_once(services, clock):
    """The cache looks a missing key up, so a new party is not refused."""
    cache = DirectoryCache(services.engine, max_age=3600)
    cache.current()
    document = parse_directory(directory(hotlines_=[a_hotline()]))
    with services.engine.begin() as connection:
        store_directory(connection, document, clock.now())

    found = cache.find_key("hl-synthetic", "k1")

    assert found is not None
    assert found.party_kind == "hotline"
    assert cache.find_key("hl-synthetic", "k2") is None
