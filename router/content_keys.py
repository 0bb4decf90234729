"""Case content at rest, encrypted with named keys that can be rotated.

`CONTENT_KEYS` (or the file `CONTENT_KEYS_FILE`, one per line) lists keys as
`name:key`, newest first; each key is a Fernet key (AES-128-CBC with
HMAC-SHA256, from `cryptography`). The first key encrypts; every listed key
decrypts. A stored value is `name:token`, so the key that made it is known
without trying each, and `keys reencrypt-content` finds what an older key
made. To rotate: put a new key first, restart, re-encrypt, then drop the old.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine, bindparam, select, update

from router.config import ConfigError, Settings
from router.persistence.tables import cases

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_ALL_CONTENT = select(cases.c.id, cases.c.content).with_for_update()
_SET_CONTENT = (
    update(cases)
    .where(cases.c.id == bindparam("case_id"))
    .values(content=bindparam("content"))
)


class ContentKeyError(ValueError):
    """Stored content cannot be opened with the configured keys."""


class ContentKeys:
    """The router's content keys: the newest encrypts, all decrypt."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("at least one content key is needed")
        self._keys = {name: Fernet(key) for name, key in keys}
        self.current = keys[0][0]
        self._encrypter = self._keys[self.current]

    @classmethod
    def parse(cls, text: str) -> ContentKeys:
        """Read `name:key` entries, separated by commas or new lines."""
        entries = []
        for part in re.split(r"[,\n]", text):
            part = part.strip()
            if not part or part.startswith("#"):
                continue
            name, separator, key = part.partition(":")
            if not separator or not _NAME.match(name):
                raise ValueError("each key is written name:key, the name plain")
            entries.append((name, key.encode()))
        try:
            return cls(entries)
        except (TypeError, ValueError) as error:
            raise ValueError(f"not a valid key list: {error}") from None

    def encrypt(self, plaintext: bytes) -> str:
        token = self._encrypter.encrypt(plaintext)

        return f"{self.current}:{token.decode()}"

    def decrypt(self, stored: str) -> bytes:
        name, _, token = stored.partition(":")
        fernet = self._keys.get(name)
        if fernet is None:
            raise ContentKeyError("the content was encrypted with an unknown key")
        try:
            return fernet.decrypt(token.encode())
        except InvalidToken:
            raise ContentKeyError("the content cannot be decrypted") from None

    def is_current(self, stored: str) -> bool:
        return stored.startswith(f"{self.current}:")

    def reencrypt(self, stored: str) -> str:
        """The value under the newest key; plaintext JSON of old is encrypted."""
        if stored.startswith("{"):
            return self.encrypt(stored.encode())

        return self.encrypt(self.decrypt(stored))


def load_content_keys(settings: Settings) -> ContentKeys:
    """The keys from `CONTENT_KEYS`, else from `CONTENT_KEYS_FILE`."""
    if settings.content_keys:
        source, text = "CONTENT_KEYS", settings.content_keys
    else:
        source = "CONTENT_KEYS_FILE"
        try:
            text = settings.content_keys_file.read_text()
        except FileNotFoundError:
            raise ConfigError(
                f"CONTENT_KEYS_FILE: {settings.content_keys_file} does not exist "
                "and CONTENT_KEYS is empty; create a key with "
                "'referral-router keys init-content'"
            ) from None
    try:
        return ContentKeys.parse(text)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None


def new_key_line(name: str) -> str:
    return f"{name}:{Fernet.generate_key().decode()}"


def write_content_key(path: Path, name: str = "k1") -> None:
    """Create a key file with one fresh key, readable by its owner alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(new_key_line(name) + "\n")


def add_content_key(path: Path, name: str) -> None:
    """Put a fresh key first in the file: it encrypts from the next start."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if any(line.partition(":")[0] == name for line in lines):
        raise ValueError(f"a key named {name} exists")
    path.write_text("\n".join([new_key_line(name), *lines]) + "\n")


def reencrypt_cases(engine: Engine, keys: ContentKeys) -> int:
    """Re-encrypt every case not under the newest key; the number changed."""
    changed = 0
    with engine.begin() as connection:
        rows = connection.execute(_ALL_CONTENT).all()
        for row in rows:
            if keys.is_current(row.content):
                continue
            connection.execute(
                _SET_CONTENT,
                {"case_id": row.id, "content": keys.reencrypt(row.content)},
            )
            changed += 1

    return changed
