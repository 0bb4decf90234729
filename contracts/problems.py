"""The error body of every call: RFC 9457 problem details."""

from __future__ import annotations

from marshmallow import Schema, fields


class ProblemSchema(Schema):
    type = fields.String(
        metadata={"description": "A stable URN naming the kind of error."}
    )
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(
        metadata={"description": "What went wrong; never repeats report content."}
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field path to messages, for validation errors."},
    )
