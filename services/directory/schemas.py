"""Row schemas of the four master-data CSV files: one strict marshmallow schema per file.

Cells arrive as text; an empty cell counts as a missing value, so optional columns take their default
and required ones report "Missing data". `StrictSchema` rejects unknown columns and `$`-operator values.
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from shared.catalog.directory import MODELS, SIZE_CATEGORIES
from shared.schemas import Code, StrictSchema, Text

LEVELS = ("primary", "secondary")
PROVINCE = validate.Regexp(r"^\d{2}$", error="a province code is two digits (DOPA)")


class ModelList(fields.List):
    """`supervision;training` in one cell. Stored deduplicated in catalog order, so the same set
    written in another order is the same state."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            fields.String(validate=validate.OneOf(MODELS)), validate=validate.Length(min=1), **kwargs
        )

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[str]:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(";") if part.strip()]
        models = super()._deserialize(value, attr, data, **kwargs)
        return [m for m in MODELS if m in models]


class EsaAreaRow(StrictSchema):
    esa_code = Code(required=True)
    name_th = Text(300, required=True)
    name_en = Text(300, required=True)
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    province_code = fields.String(required=True, validate=PROVINCE)
    effective_from = fields.Date(required=True)


class ClusterRow(StrictSchema):
    cluster_id = Code(required=True)
    name_th = Text(300, required=True)
    name_en = Text(300, required=True)
    esa_code = Code(required=True)
    coordinator = Text(300, load_default="")
    models = ModelList(required=True)
    effective_from = fields.Date(required=True)


class SchoolRow(StrictSchema):
    school_code = Code(required=True)
    name_th = Text(300, required=True)
    name_en = Text(300, required=True)
    esa_code = Code(required=True)
    cluster_id = Code(load_default=None, allow_none=True)  # a school may be in no cluster yet
    province_code = fields.String(required=True, validate=PROVINCE)
    amphoe = Text(200, load_default="")
    size_category = fields.String(required=True, validate=validate.OneOf(SIZE_CATEGORIES))
    students = fields.Integer(required=True, validate=validate.Range(min=0, max=100_000))
    teachers = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000))
    effective_from = fields.Date(required=True)


class TeacherRow(StrictSchema):
    teacher_id = Code(required=True)
    school_code = Code(required=True)
    name_th = Text(300, required=True)
    name_en = Text(300, load_default="")
    email = fields.Email(load_default="")
    subject = Text(200, load_default="")
    effective_from = fields.Date(required=True)


ROW_SCHEMAS: dict[str, type[StrictSchema]] = {
    "esa_area": EsaAreaRow,
    "cluster": ClusterRow,
    "school": SchoolRow,
    "teacher": TeacherRow,
}


def columns(schema: StrictSchema) -> tuple[set[str], set[str]]:
    """(all columns, required columns) of a row schema."""
    names = {name for name, f in schema.fields.items() if not f.dump_only}
    return names, {name for name in names if schema.fields[name].required}


# Column order of each file, as the generator writes them and as documented for operators
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    kind: tuple(schema._declared_fields) for kind, schema in ROW_SCHEMAS.items()
}
