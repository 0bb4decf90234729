"""Case content at rest: encrypted under the newest key, rotatable."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from router.config import ConfigError, load_settings
from router.content_keys import (
    ContentKeyError,
    ContentKeys,
    load_content_keys,
    new_key_line,
    reencrypt_cases,
)
from router.persistence.tables import cases
from tests.conftest import CONTENT_KEYS
from tests.factories import SYNTHETIC, a_report


def stored_contents(services) -> list[str]:
    with services.engine.connect() as connection:
        return list(connection.execute(select(cases.c.content)).scalars())


def test_a_filed_report_is_stored_encrypted_and_opens_with_the_key(caller, services):
    """The stored value names its key and decrypts to the report as sent."""
    caller.file("hl-at-demo", a_report("KEYS-0001"))

    [content] = stored_contents(services)

    assert content.startswith("test-1:")
    assert SYNTHETIC not in content
    assert json.loads(services.content_keys.decrypt(content))["narrative"] == SYNTHETIC


def test_after_rotation_old_content_still_opens(caller, services):
    """A new key first, the old one after: what the old key made still opens."""
    caller.file("hl-at-demo", a_report("KEYS-0002"))
    rotated = ContentKeys.parse(f"{new_key_line('test-2')},{CONTENT_KEYS}")

    [content] = stored_contents(services)

    assert json.loads(rotated.decrypt(content))["reference"] == "KEYS-0002"


def test_reencrypting_moves_every_case_to_the_newest_key(caller, services):
    """After `reencrypt-content` the old key can be dropped."""
    caller.file("hl-at-demo", a_report("KEYS-0003"))
    newest = new_key_line("test-2")
    rotated = ContentKeys.parse(f"{newest},{CONTENT_KEYS}")

    changed = reencrypt_cases(services.engine, rotated)

    [content] = stored_contents(services)
    assert changed == 1
    assert json.loads(ContentKeys.parse(newest).decrypt(content))["reference"] == (
        "KEYS-0003"
    )


def test_reencrypting_encrypts_content_stored_in_plaintext_before(caller, services):
    """Rows written before encryption at rest are encrypted by the same command."""
    caller.file("hl-at-demo", a_report("KEYS-0004"))
    with services.engine.begin() as connection:
        connection.execute(update(cases).values(content='{"reference":"KEYS-0004"}'))

    reencrypt_cases(services.engine, services.content_keys)

    [content] = stored_contents(services)
    assert services.content_keys.is_current(content)


def test_a_dropped_key_cannot_open_what_it_made():
    """Content made by a key no longer configured is refused, not guessed."""
    old = ContentKeys.parse(new_key_line("old"))
    stored = old.encrypt(b'{"synthetic": true}')

    with pytest.raises(ContentKeyError):
        ContentKeys.parse(new_key_line("new")).decrypt(stored)


def test_a_malformed_key_list_stops_the_start():
    """`CONTENT_KEYS` that is not a list of name:key fails with its name."""
    settings = load_settings(environ={"CONTENT_KEYS": "k1:not-a-key"})

    with pytest.raises(ConfigError, match="CONTENT_KEYS"):
        load_content_keys(settings)
