"""The directory of parties, their keys, and signed calls made by hand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from router.cli.common import current_settings


@click.group()
def directory() -> None:
    """Member hotlines and contact points."""


@directory.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_check(file: Path) -> None:
    """Validate a directory file without loading it."""
    loaded = _read_directory(file)
    click.echo(
        f"{file}: {len(loaded['hotlines'])} hotlines, "
        f"{len(loaded['contact_points'])} contact points, valid"
    )


@directory.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_load(file: Path) -> None:
    """Validate a directory file, then write it to the database."""
    from router.clock import SystemClock
    from router.directory import store_directory
    from router.persistence.db import create_database_engine

    loaded = _read_directory(file)
    engine = create_database_engine(current_settings().database_url)
    with engine.begin() as connection:
        counts = store_directory(connection, loaded, SystemClock().now())
    click.echo(
        f"loaded {counts['hotlines']} hotlines, {counts['contact_points']} "
        f"contact points and {counts['keys']} keys from {file}"
    )


def _read_directory(file: Path) -> dict:
    from router.directory import read_directory_file
    from router.errors import DirectoryError

    try:
        return read_directory_file(file)
    except DirectoryError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def keys() -> None:
    """Signing and encryption keys."""


@keys.command("generate")
@click.option("--alg", type=click.Choice(["EdDSA", "ES256"]), default="EdDSA")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the private key (PEM); it must not exist.",
)
def keys_generate(alg: str, out: Path) -> None:
    """Make a signing key pair; print the public key for the directory."""
    import os

    from contracts.signed_calls import new_signing_key, private_key_pem, public_key_pem

    key = new_signing_key(alg)
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.ClickException(f"{out} exists; choose another path") from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_key_pem(key))
    click.echo(public_key_pem(key), nl=False)


@keys.command("encryption")
def keys_encryption() -> None:
    """Make an X25519 pair for a contact point's sealed content."""
    from contracts.sealing import new_encryption_key_pair

    private, public = new_encryption_key_pair()
    click.echo(json.dumps({"private_key": private, "public_key": public}, indent=2))


@keys.command("init-router")
def keys_init_router() -> None:
    """Create the router's own signing key, if it has none yet."""
    from router.signer import load_signer, write_signing_key

    settings = current_settings()
    if not settings.signing_key_file.exists():
        write_signing_key(settings.signing_key_file)
    click.echo(load_signer(settings).public_pem, nl=False)


@keys.command("init-content")
def keys_init_content() -> None:
    """Create the key that encrypts case content at rest, if there is none."""
    from router.content_keys import write_content_key

    settings = current_settings()
    path = settings.content_keys_file
    if settings.content_keys:
        raise click.ClickException("CONTENT_KEYS is set; it takes precedence")
    if path.exists():
        click.echo(f"{path} exists; nothing to do")
        return
    write_content_key(path)
    click.echo(f"wrote a content key to {path}")


@keys.command("rotate-content")
@click.argument("name")
def keys_rotate_content(name: str) -> None:
    """Put a new content key NAME first in CONTENT_KEYS_FILE."""
    from router.content_keys import add_content_key

    try:
        add_content_key(current_settings().content_keys_file, name)
    except (OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{name} encrypts from the next start; then run reencrypt-content")


@keys.command("reencrypt-content")
def keys_reencrypt_content() -> None:
    """Re-encrypt every stored case under the newest content key."""
    from router.content_keys import load_content_keys, reencrypt_cases
    from router.persistence.db import create_database_engine

    settings = current_settings()
    keys_ = load_content_keys(settings)
    changed = reencrypt_cases(create_database_engine(settings.database_url), keys_)
    click.echo(f"re-encrypted {changed} cases under key {keys_.current}")


@click.command()
@click.argument("method", type=click.Choice(["GET", "POST"]))
@click.argument("path")
@click.option(
    "--body",
    "body_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file to send as the body.",
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--kid", required=True)
@click.option("--party", "party_id", required=True, help="Your party id (iss).")
@click.option("--url", default="http://127.0.0.1:8000", show_default=True)
def call(method, path, body_file, key_file, kid, party_id, url) -> None:
    """Make one signed call, e.g. `call POST /v1/reports --body report.json`."""
    from connectors.client import SignedClient
    from contracts.signed_calls import load_private_key

    settings = current_settings()
    client = SignedClient(
        url, settings.router_id, party_id, kid, load_private_key(key_file.read_bytes())
    )
    document = json.loads(body_file.read_text()) if body_file else None
    if method == "POST" and document is None:
        document = {}
    response = client.call(method, path, document)
    click.echo(f"HTTP {response.status_code}", err=True)
    click.echo(json.dumps(response.json(), indent=2))
    sys.exit(0 if response.ok else 1)
