"""Errors raised while loading a rule set.

Every problem names its place: the file, the rule where there is one, and the
field, so a coordinator can fix a rule file without reading Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one rule file."""

    file: str
    message: str
    rule: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        place = [self.file]
        if self.rule is not None:
            place.append(f"rule '{self.rule}'")
        if self.field is not None:
            place.append(f"field '{self.field}'")

        return ": ".join([*place, self.message])


class RuleSetError(Exception):
    """A rule set cannot be loaded; `problems` lists every located problem."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))
