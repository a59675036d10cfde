"""Request-schema building blocks: strict by default, operator-injection proof, bounded pages."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, post_load, pre_load, validate

MAX_DEPTH = 8
IF_MATCH = r'^(W/)?"?[0-9]{1,9}"?$'  # a version, optionally as a (weak) ETag
MAX_STRING = 5000
INT64 = range(-(2**63), 2**63)  # what the document store can hold
SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate (from a "\\ud800" escape) is no text


def _check(value: Any, path: str, depth: int, errors: dict[str, list[str]]) -> None:
    if depth > MAX_DEPTH:
        errors.setdefault(path or "_schema", []).append("nesting is too deep")
    elif isinstance(value, Mapping):  # a query string or headers arrive as a MultiDictProxy, not a dict
        for key, item in value.items():
            if (
                not isinstance(key, str)
                or key.startswith("$")
                or "." in key
                or "\x00" in key
                or SURROGATE.search(key)
            ):
                errors.setdefault(path or "_schema", []).append(f"field name {key!r} is not allowed")
            else:
                _check(item, f"{path}.{key}" if path else key, depth + 1, errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", depth + 1, errors)
    elif isinstance(value, str):
        if value.startswith("$"):
            errors.setdefault(path, []).append("values may not start with '$'")
        if "\x00" in value or len(value) > MAX_STRING or SURROGATE.search(value):
            errors.setdefault(path, []).append("value is not allowed")
    elif _out_of_range(value):
        errors.setdefault(path or "_schema", []).append("number is out of range")


def _out_of_range(value: Any) -> bool:
    """1e309, NaN and Infinity (floats), or an integer the document store cannot hold."""
    if isinstance(value, float):
        return not math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool) and value not in INT64


class StrictSchema(Schema):
    """Unknown fields are rejected; `$`-operators, dotted keys and deep nesting never reach a query."""

    class Meta:
        unknown = RAISE

    @pre_load
    def _reject_operators(self, data: Any, **_: Any) -> Any:
        errors: dict[str, list[str]] = {}
        _check(data, "", 0, errors)
        if errors:
            raise ValidationError(errors)
        return data


def Code(**kwargs: Any) -> fields.String:
    """An org or entity code: letters, digits, dash and underscore."""
    return fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$"), **kwargs)


def Text(max_length: int = 500, **kwargs: Any) -> fields.String:
    # documents what StrictSchema refuses in any string: a leading '$' and NUL characters
    metadata = {"pattern": r"^[^$\x00][^\x00]*$", **kwargs.pop("metadata", {})}
    return fields.String(validate=validate.Length(min=1, max=max_length), metadata=metadata, **kwargs)


class OrgFilterSchema(StrictSchema):
    """Query filters every list accepts: org unit and period, plus a bounded page."""

    school_code = Code()
    cluster_id = Code()
    esa_code = Code()
    province_code = Code()
    academic_year = fields.Integer(validate=validate.Range(min=2500, max=2700))
    semester = fields.Integer(validate=validate.OneOf([1, 2]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class PageMetaSchema(Schema):
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


def page_of(item_schema: type[Schema]) -> type[Schema]:
    """A response schema `{items: [...], page, page_size, total}`."""
    return type(
        f"{item_schema.__name__.removesuffix('Schema')}PageSchema",
        (PageMetaSchema,),
        {"items": fields.List(fields.Nested(item_schema))},
    )


def org_query(args: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """A MongoDB filter from validated list arguments, always narrowed to the caller's scope."""
    query: dict[str, Any] = dict(scope)
    for name in ("school_code", "cluster_id", "esa_code", "province_code"):
        if name in args:
            key = f"org.{name}"
            if key in query and query[key] != args[name]:
                query[key] = {"$in": []}  # asking outside one's scope finds nothing
            else:
                query[key] = args[name]
    for name in ("academic_year", "semester"):
        if name in args:
            query[f"period.{name}"] = args[name]
    return query


class WriteHeadersSchema(Schema):
    """Headers a write understands (other headers are ignored)."""

    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        # printable ASCII: what idempotency.claim accepts and an HTTP header carries unchanged
        validate=validate.Regexp(r"^[ -~]{1,100}$", error="1-100 printable characters"),
        metadata={"description": "Repeat a write safely: the first response is stored and replayed."},
    )


class VersionedWriteHeadersSchema(WriteHeadersSchema):
    if_match = fields.String(
        data_key="If-Match",
        validate=validate.Regexp(IF_MATCH),
        metadata={"description": "The `version` you last read; 409 when the object has changed since."},
    )

    @post_load
    def _expected_version(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        raw = data.get("if_match")
        return {"expected_version": int(raw.removeprefix("W/").strip('"')) if raw else None}


# --- responses ------------------------------------------------------------------------------------------


class OrgOutSchema(Schema):
    school_code = fields.String(allow_none=True)
    cluster_id = fields.String(allow_none=True)
    esa_code = fields.String(allow_none=True)
    province_code = fields.String(allow_none=True)


class PeriodOutSchema(Schema):
    academic_year = fields.Integer(metadata={"description": "Buddhist Era"})
    semester = fields.Integer()
    label_th = fields.Function(lambda p: p.label("th"))
    label_en = fields.Function(lambda p: p.label("en"))


class EntitySchema(Schema):
    id = fields.String()
    org = fields.Nested(OrgOutSchema)
    period = fields.Nested(PeriodOutSchema)
    version = fields.Integer(metadata={"description": "send it back as If-Match to change the object"})
