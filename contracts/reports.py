"""The report a member hotline submits: `POST /v1/reports`."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from contracts.base import (
    Country,
    StrictBoolean,
    StrictSchema,
    validate_language_tag,
)

CATEGORIES = (
    "travel_tourism_offence",
    "online_abuse_material",
    "grooming",
    "trafficking",
    "other",
)
AGE_BANDS = ("0-5", "6-11", "12-15", "16-17", "unknown")
REFERENCE_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
MAX_NARRATIVE = 20_000
MAX_PEOPLE = 20
MAX_URLS = 100


class IncidentSchema(StrictSchema):
    country = Country()
    place = fields.String(validate=validate.Length(max=200))
    occurred_on = fields.Date()


class SuspectSchema(StrictSchema):
    nationalities = fields.List(Country(), validate=validate.Length(max=10))
    residence_country = Country()
    description = fields.String(validate=validate.Length(max=2_000))


class VictimSchema(StrictSchema):
    age_band = fields.String(validate=validate.OneOf(AGE_BANDS))
    country = Country()


class OnlineSchema(StrictSchema):
    urls = fields.List(
        fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2_048)),
        validate=validate.Length(max=MAX_URLS),
    )
    hosting_countries = fields.List(Country(), validate=validate.Length(max=50))


class ReporterSchema(StrictSchema):
    consents_to_contact = StrictBoolean()
    language = fields.String(validate=validate_language_tag)


class ReportSchema(StrictSchema):
    """One report, as protocol v1 defines it."""

    reference = fields.String(
        required=True,
        validate=validate.Regexp(
            REFERENCE_PATTERN, error="1 to 64 of A-Z a-z 0-9 . _ -"
        ),
    )
    received_at = fields.AwareDateTime(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    immediate_danger = StrictBoolean(required=True)
    incident = fields.Nested(IncidentSchema)
    suspects = fields.List(
        fields.Nested(SuspectSchema), validate=validate.Length(max=MAX_PEOPLE)
    )
    victims = fields.List(
        fields.Nested(VictimSchema), validate=validate.Length(max=MAX_PEOPLE)
    )
    online = fields.Nested(OnlineSchema)
    narrative = fields.String(validate=validate.Length(max=MAX_NARRATIVE))
    reporter = fields.Nested(ReporterSchema)

    @validates_schema
    def _needs_a_place(self, data: dict, **kwargs) -> None:
        has_country = bool(data.get("incident", {}).get("country"))
        has_urls = bool(data.get("online", {}).get("urls"))
        if not (has_country or has_urls):
            raise ValidationError(
                "Required unless online.urls is given.", "incident.country"
            )
