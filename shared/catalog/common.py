"""Field types shared by the contracts."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

CODE = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$")


class Payload(Schema):
    """Readers ignore unknown payload fields: adding an optional field keeps the version."""

    class Meta:
        unknown = EXCLUDE


class Period(Payload):
    academic_year = fields.Integer(required=True, validate=validate.Range(min=2500, max=2700))  # Buddhist Era
    semester = fields.Integer(required=True, validate=validate.OneOf([1, 2]))


def code(**kwargs: object) -> fields.String:
    return fields.String(validate=CODE, **kwargs)
