"""Settings: one table of variables, with clear errors and derived paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config import ConfigError, load_settings


def test_an_instance_folder_holds_the_files_not_set_otherwise(tmp_path):
    """Database, signing key and content keys follow the instance folder."""
    settings = load_settings(environ={}, instance_dir=tmp_path)

    assert settings.database_url == f"sqlite:///{tmp_path / 'referral-router.db'}"
    assert settings.signing_key_file == tmp_path / "keys" / "router-signing.pem"
    assert settings.content_keys_file == tmp_path / "keys" / "content-keys"


def test_an_explicit_file_wins_over_the_instance_folder(tmp_path):
    """A key file named in the environment is not moved."""
    environ = {
        "ROUTER_INSTANCE_DIR": str(tmp_path),
        "ROUTER_SIGNING_KEY_FILE": "/secrets/router.pem",
    }

    settings = load_settings(environ=environ)

    assert settings.signing_key_file == Path("/secrets/router.pem")
    assert settings.content_keys_file == tmp_path / "keys" / "content-keys"


def test_a_malformed_variable_is_named(tmp_path):
    """A bad value stops start-up with the variable's name."""
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL: must start with http"):
        load_settings(environ={"PUBLIC_BASE_URL": "ftp://example.org"})


def test_an_unknown_override_is_refused():
    """Typos in code are caught too."""
    with pytest.raises(ConfigError, match="unknown settings: colour"):
        load_settings(environ={}, colour="red")
