"""Shared pieces of every contract: strictness and validated value types."""

from __future__ import annotations

import re

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class StrictSchema(Schema):
    """Refuses unknown fields at every depth.

    `unknown=RAISE` passed at load time does not reach nested schemas, so it
    lives in `Meta`, which every nested schema inherits.
    """

    class Meta:
        unknown = RAISE


class StrictBoolean(fields.Boolean):
    """A JSON `true` or `false`; no strings, no numbers."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def validate_country(value: str) -> None:
    if value not in COUNTRY_CODES:
        raise ValidationError("Not an ISO 3166-1 alpha-2 country code.")


def validate_language_tag(value: str) -> None:
    if len(value) > 35 or not _LANGUAGE_TAG.match(value):
        raise ValidationError("Not a BCP 47 language tag.")
    primary = value.split("-", 1)[0].lower()
    known = (
        pycountry.languages.get(alpha_2=primary)
        if len(primary) == 2
        else pycountry.languages.get(alpha_3=primary)
    )
    if known is None:
        raise ValidationError("Unknown primary language subtag.")


def Country(**kwargs) -> fields.String:
    """An ISO 3166-1 alpha-2 code, checked against pycountry's list."""
    return fields.String(validate=validate_country, **kwargs)
