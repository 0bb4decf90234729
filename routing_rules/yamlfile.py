"""Reading YAML the way coordinators write it.

PyYAML follows YAML 1.1, where `NO`, `yes`, `on` and `off` are booleans, so
Norway's country code `NO` would load as `False`. The loader here knows only
`true` and `false` as booleans.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"


class RulesLoader(_BaseLoader):
    """A safe YAML loader whose only booleans are `true` and `false`."""


RulesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
RulesLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def parse_yaml(text: str | bytes) -> Any:
    """Parse one YAML document with `RulesLoader`."""
    return yaml.load(text, Loader=RulesLoader)  # noqa: S506 - a safe loader


def read_yaml(path: str | Path) -> Any:
    """Read and parse one YAML file."""
    return parse_yaml(Path(path).read_bytes())
