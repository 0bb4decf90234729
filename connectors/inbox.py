"""A contact point's local inbox: each referral written exactly once.

A referral is a JSON file named by its id. It is written to a temporary file,
flushed to disk, then linked into place; linking fails if the name exists, so
a redelivered referral is recognised and never written twice, even when two
receivers race.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

_REFERRAL_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class Inbox:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path_of(self, referral_id: str) -> Path:
        if not _REFERRAL_ID.match(referral_id):
            raise ValueError("not a referral id")

        return self.folder / f"{referral_id}.json"

    def write_once(self, referral_id: str, record: dict[str, Any]) -> bool:
        """Store the record; False if this referral was stored before."""
        final = self.path_of(referral_id)
        if final.exists():
            return False
        descriptor, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
        try:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(record, handle, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, final)
        except FileExistsError:
            return False
        finally:
            os.unlink(temporary)

        return True

    def read(self, referral_id: str) -> dict[str, Any]:
        return json.loads(self.path_of(referral_id).read_text())

    def referral_ids(self) -> list[str]:
        return sorted(path.stem for path in self.folder.glob("*.json"))
