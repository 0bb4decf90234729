"""The shape of rule files, as marshmallow schemas.

These check each file on its own. References between files and to the
directory (contact points, fallback chains) are checked by the loader.
"""

from __future__ import annotations

from typing import Any

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow.validate import OneOf, Range, Regexp

from contracts.referrals import ROLES
from contracts.reports import AGE_BANDS, CATEGORIES
from routing_rules.facts import REPORT_FIELDS

COUNTRY_RELATIONS = (
    "incident",
    "suspects",
    "suspect_nationality",
    "suspect_residence",
    "victims",
    "hosting",
    "hotline",
)
SUSPECT_RELATIONS = frozenset({"suspects", "suspect_nationality", "suspect_residence"})
KNOWN_COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)

_RULE_ID = Regexp(
    r"^[a-z0-9][a-z0-9-]{0,63}$",
    error="rule ids are lower-case letters, digits and hyphens, e.g. 'th-lead'",
)


class CountryCode(fields.String):
    """An ISO 3166-1 alpha-2 country code, upper-cased."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).upper()
        if code not in KNOWN_COUNTRIES:
            raise ValidationError(f"unknown country '{value}'")

        return code


class OneOrMany(fields.List):
    """A list that may also be written as a single value."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> list[Any]:
        if not isinstance(value, list):
            value = [value]

        return super()._deserialize(value, attr, data, **kwargs)


class StrictSchema(Schema):
    """Base of every rule-file schema: an unknown key is an error."""

    class Meta:
        unknown = RAISE


class WhenSchema(StrictSchema):
    """Conditions of a rule; all must hold, and a list means any of its values."""

    category = OneOrMany(fields.String(validate=OneOf(CATEGORIES)))
    immediate_danger = fields.Boolean()
    consents_to_contact = fields.Boolean()
    incident_country = OneOrMany(CountryCode())
    suspect_nationality = OneOrMany(CountryCode())
    suspect_residence = OneOrMany(CountryCode())
    victim_country = OneOrMany(CountryCode())
    victim_age_band = OneOrMany(fields.String(validate=OneOf(AGE_BANDS)))
    hosting_country = OneOrMany(CountryCode())
    hotline_country = OneOrMany(CountryCode())


def _report_fields() -> fields.List:
    return fields.List(fields.String(validate=OneOf(REPORT_FIELDS)))


def _hours() -> fields.Float:
    return fields.Float(validate=Range(min=0, min_inclusive=False))


class RuleSchema(StrictSchema):
    """One rule: when its conditions hold, it refers the report in one role."""

    id = fields.String(required=True, validate=_RULE_ID)
    description = fields.String(required=True)
    when = fields.Nested(WhenSchema, load_default=dict)
    role = fields.String(required=True, validate=OneOf(ROLES))
    contact_point = fields.String()
    to_country_of = fields.String(validate=OneOf(COUNTRY_RELATIONS))
    only_if_prosecutes_abroad = fields.Boolean(load_default=False)
    ack_within_hours = _hours()
    receives = _report_fields()
    effective_from = fields.Date()
    effective_until = fields.Date()

    @validates_schema
    def _check_target(self, data: dict[str, Any], **kwargs) -> None:
        if ("contact_point" in data) == ("to_country_of" in data):
            raise ValidationError(
                "give exactly one of 'contact_point' and 'to_country_of'",
                field_name="contact_point",
            )
        if (
            data["only_if_prosecutes_abroad"]
            and data.get("to_country_of") not in SUSPECT_RELATIONS
        ):
            raise ValidationError(
                "only meaningful with 'to_country_of' a suspects' country",
                field_name="only_if_prosecutes_abroad",
            )

    @validates_schema
    def _check_dates(self, data: dict[str, Any], **kwargs) -> None:
        starts, ends = data.get("effective_from"), data.get("effective_until")
        if starts and ends and ends < starts:
            raise ValidationError(
                "ends before 'effective_from'", field_name="effective_until"
            )

    @validates_schema
    def _check_consent(self, data: dict[str, Any], **kwargs) -> None:
        # A support organisation may contact the reporter, so it only ever gets
        # a report whose reporter agreed to that.
        if (
            data["role"] == "support"
            and data["when"].get("consents_to_contact") is not True
        ):
            raise ValidationError(
                "a support referral needs 'consents_to_contact: true' under 'when'",
                field_name="role",
            )


class RoleContactPointsSchema(StrictSchema):
    """A jurisdiction's contact point for each role; a missing role is a gap."""

    lead = fields.String()
    informed = fields.String()
    support = fields.String()


class EmbargoSchema(StrictSchema):
    """A jurisdiction that must not receive referrals, and where they go instead."""

    reason = fields.String(required=True)
    refer_instead = fields.String(required=True)


class JurisdictionSchema(StrictSchema):
    """A jurisdiction file: one country's settings, contact points and rules."""

    country = CountryCode(required=True)
    prosecutes_offences_abroad = fields.Boolean(load_default=False)
    contact_points = fields.Nested(RoleContactPointsSchema, load_default=dict)
    fallback = fields.String()
    embargo = fields.Nested(EmbargoSchema)
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)


class RoleFieldsSchema(StrictSchema):
    """The top-level report fields each role receives unless a rule says otherwise."""

    lead = _report_fields()
    informed = _report_fields()
    support = _report_fields()

    @validates_schema
    def _check_all_roles(self, data: dict[str, Any], **kwargs) -> None:
        for role in ROLES:
            if role not in data:
                raise ValidationError("missing: every role needs a field list", role)


class NoRuleAppliesSchema(StrictSchema):
    """The rule that sends a report to the coordinators when nothing else applies."""

    id = fields.String(required=True, validate=_RULE_ID)
    description = fields.String(required=True)
    ack_within_hours = _hours()
    receives = _report_fields()


class NetworkSchema(StrictSchema):
    """The network file: version, coordinators, defaults, fallbacks, shared rules."""

    network = fields.String(required=True)
    version = fields.String(required=True)
    coordinators = fields.String(required=True)
    default_ack_within_hours = _hours()
    role_fields = fields.Nested(RoleFieldsSchema, required=True)
    fallbacks = fields.Dict(keys=fields.String(), values=fields.String())
    no_rule_applies = fields.Nested(NoRuleAppliesSchema, required=True)
    escalate_to_fallback = fields.List(
        fields.String(validate=OneOf(ROLES)), load_default=list
    )
    rules = fields.List(fields.Nested(RuleSchema), load_default=list)
