"""Response schemas with a compiled dump give exactly marshmallow's output, whatever the figures hold."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from marshmallow import Schema, fields

from services.monitoring.schemas import CompiledDumpSchema, ViewSchema, compile_dump
from services.monitoring.schemas_indicators import IndicatorTableSchema

SCHEMAS = [ViewSchema, IndicatorTableSchema]


def sample(schema: Schema, rng: random.Random) -> dict[str, Any]:
    """A document for `schema`: each field present or not, None, or a value of a neighbouring type (an int
    where a float is declared and the reverse), plus a key no field declares."""
    doc: dict[str, Any] = {"undeclared": 1}
    for name, field in schema.dump_fields.items():
        pick = rng.random()
        if pick < 0.1:
            continue
        doc[name] = None if pick < 0.2 else value(field, rng)
    return doc


def value(field: fields.Field, rng: random.Random) -> Any:
    if isinstance(field, fields.Nested):
        many = field.many or field.schema.many
        return [sample(field.schema, rng) for _ in range(3)] if many else sample(field.schema, rng)
    if isinstance(field, fields.List):
        return [None, *(value(field.inner, rng) for _ in range(3))]
    if isinstance(field, fields.Dict):
        inner = field.value_field or fields.Raw()
        return {f"k{i}": value(inner, rng) for i in range(3)}
    if isinstance(field, fields.Integer | fields.Float):
        return rng.choice([3, 2.75, 0, True])
    if isinstance(field, fields.DateTime):
        return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    if isinstance(field, fields.Boolean):
        return rng.choice([True, False, 1, 0])
    return rng.choice(["ไทย", "text", 7])


@pytest.mark.parametrize("schema_class", SCHEMAS)
def test_compiled_dump_equals_marshmallows(schema_class: type[Schema]) -> None:
    schema = schema_class()
    rng = random.Random(7)
    for _ in range(200):
        doc = sample(schema, rng)
        assert schema.dump(doc) == Schema.dump(schema, doc)
    docs = [sample(schema, rng) for _ in range(3)]
    assert schema.dump(docs, many=True) == Schema.dump(schema, docs, many=True)


def test_a_field_without_a_compiled_dump_is_refused() -> None:
    class WithEmail(CompiledDumpSchema):
        email = fields.Email()

    with pytest.raises(TypeError, match="Email"):
        compile_dump(WithEmail())
