"""Referrals as contact points and hotlines see them, and the acknowledgement."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from contracts.base import StrictBoolean, StrictSchema

ROLES = ("lead", "informed", "support")
REFERRAL_STATES = (
    "routed",
    "delivered",
    "acknowledged",
    "follow_up_reported",
    "closed",
    "declined",
    "revoked",
)
SEALED_BOX = "x25519-xsalsa20-poly1305-sealedbox"
OUTCOMES = (
    "investigation_opened",
    "referred_onward",
    "victim_support_provided",
    "content_removed",
    "not_competent",
    "insufficient_information",
    "no_action",
)
DECLINE_REASONS = (
    "not_competent",
    "no_jurisdiction",
    "conflict_of_interest",
    "insufficient_information",
    "other",
)


class AcknowledgementSchema(StrictSchema):
    """Body of `POST /v1/referrals/{id}/acknowledgement`; it may be empty."""

    acknowledged_by = fields.String(
        validate=validate.Length(min=1, max=128),
        metadata={
            "description": "The contact point's own reference for the person "
            "who took the referral in hand (a staff number, not a name)."
        },
    )


class FollowUpSchema(StrictSchema):
    """Body of `POST /v1/referrals/{id}/follow-up`: what the contact point did."""

    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    note = fields.String(
        validate=validate.Length(max=2_000),
        metadata={"description": "Free text for the network; kept confidential."},
    )
    final = StrictBoolean(
        load_default=False,
        metadata={"description": "True closes the referral: nothing more follows."},
    )


class DeclineSchema(StrictSchema):
    """Body of `POST /v1/referrals/{id}/decline`: the contact point is not the
    right one; the router re-routes the referral down its fallback chain."""

    reason = fields.String(required=True, validate=validate.OneOf(DECLINE_REASONS))


class ReferralSchema(Schema):
    """One referral: a case sent to one contact point in one role."""

    id = fields.String()
    case_id = fields.String()
    contact_point_id = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    state = fields.String(metadata={"enum": list(REFERRAL_STATES)})
    routed_at = fields.AwareDateTime()
    ack_due_at = fields.AwareDateTime()
    delivered_at = fields.AwareDateTime(allow_none=True)
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_within_target = fields.Boolean(
        allow_none=True,
        metadata={"description": "null until acknowledged"},
    )
    breached_at = fields.AwareDateTime(allow_none=True)
    reminded_at = fields.AwareDateTime(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={"enum": list(OUTCOMES)})
    follow_up_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    declined_at = fields.AwareDateTime(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)
    replaces_referral_id = fields.String(
        allow_none=True,
        metadata={"description": "The declined or overdue referral this replaces."},
    )


class CaseSchema(Schema):
    """The router's record of one report, as its hotline may follow it."""

    case_id = fields.String()
    reference = fields.String()
    received_at = fields.AwareDateTime()
    routed_at = fields.AwareDateTime()
    rule_set_version = fields.String()
    referrals = fields.List(fields.Nested(ReferralSchema))


class SealedContentSchema(Schema):
    alg = fields.String(metadata={"enum": [SEALED_BOX]})
    ciphertext = fields.String(metadata={"description": "base64 of the sealed box"})


class ReferralMessageSchema(Schema):
    """What travels to a contact point: routing headers and sealed content.

    The content is the part of the report that the referral's role receives,
    as JSON, sealed to the contact point's X25519 key; only the contact point
    can open it.
    """

    protocol = fields.String()
    referral_id = fields.String()
    case_id = fields.String()
    contact_point_id = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})
    routed_at = fields.AwareDateTime()
    ack_due_at = fields.AwareDateTime()
    content = fields.Nested(SealedContentSchema)


class CaseListQuerySchema(StrictSchema):
    """Query of `GET /v1/reports`: a page of the hotline's own cases."""

    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    before = fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "The `next` cursor of the previous page."},
    )


class CaseListSchema(Schema):
    cases = fields.List(fields.Nested(CaseSchema))
    next = fields.String(
        allow_none=True,
        metadata={"description": "Cursor of the next page; null on the last one."},
    )


INBOX_LIMIT = 100


class InboxQuerySchema(StrictSchema):
    """Query of `GET /v1/inbox`: a page of waiting referrals."""

    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=INBOX_LIMIT),
        metadata={"description": f"At most {INBOX_LIMIT} referrals per page."},
    )
    after = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0),
        metadata={"description": "The `next_after` of the previous page."},
    )


class InboxSchema(Schema):
    """Referrals waiting for the calling contact point, oldest first."""

    referrals = fields.List(
        fields.Nested(ReferralMessageSchema),
        metadata={"description": "Each exactly as it was published: sealed."},
    )
    next_after = fields.Integer(
        allow_none=True,
        metadata={"description": "Pass as `after` for the next page; null at the end."},
    )
