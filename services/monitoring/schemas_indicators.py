"""Indicator API schemas."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.monitoring.schemas import CompiledDumpSchema, PeriodSchema

THRESHOLD = 'a number, or one per semester {"1": …, "2": …} for a figure counted from the start of the year'


class IndicatorDefinitionSchema(Schema):
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    formula_th = fields.String()
    formula_en = fields.String()
    source = fields.String(metadata={"description": "the figure of `/views/{level}/{code}` it reads"})
    unit = fields.String(metadata={"description": "share (0–1), score, hours, count or points"})
    direction = fields.String(metadata={"description": "`higher` or `lower`: which way is better"})
    target = fields.Raw(metadata={"description": f"effective target: {THRESHOLD}"})
    at_risk = fields.Raw(metadata={"description": f"effective at-risk threshold: {THRESHOLD}"})


class StatusLabelSchema(Schema):
    code = fields.String()
    label_th = fields.String()
    label_en = fields.String()


class CatalogueSchema(Schema):
    indicators = fields.List(fields.Nested(IndicatorDefinitionSchema))
    statuses = fields.List(fields.Nested(StatusLabelSchema))


class IndicatorValueSchema(Schema):
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    unit = fields.String()
    direction = fields.String()
    value = fields.Float(allow_none=True)
    target = fields.Float(metadata={"description": "target for the requested semester"})
    at_risk = fields.Float()
    status = fields.String(metadata={"description": "on_track, at_risk, off_track or no_data"})
    status_th = fields.String()
    status_en = fields.String()


class UnitIndicatorsSchema(Schema):
    level = fields.String()
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    indicators = fields.List(fields.Nested(IndicatorValueSchema))


class IndicatorTableSchema(CompiledDumpSchema):
    unit = fields.Nested(UnitIndicatorsSchema)
    period = fields.Nested(PeriodSchema)
    as_of = fields.AwareDateTime(allow_none=True, metadata={"description": "time of the last event applied"})
    children = fields.List(fields.Nested(UnitIndicatorsSchema))
