"""The published OpenAPI document is the one the code generates."""

from __future__ import annotations

import json
from pathlib import Path

from openapi_spec_validator import validate

SPEC = Path(__file__).resolve().parents[2] / "contracts" / "openapi.json"


def test_the_committed_openapi_document_is_current(app):
    """`make openapi` has been run after the last change to a contract."""
    with app.app_context():
        generated = app.extensions["openapi"].spec.to_dict()

    committed = json.loads(SPEC.read_text())

    assert json.loads(json.dumps(generated)) == committed


def test_the_openapi_document_is_valid():
    """The document passes an OpenAPI 3.1 validator."""
    validate(json.loads(SPEC.read_text()))
