"""Master-data events (`directory.events`). Each carries the record's full current state, so a reader
keeps its local copy with an idempotent upsert."""

from __future__ import annotations

from marshmallow import fields, validate

from shared.catalog import catalog
from shared.catalog.common import Payload, code

MODELS = ("supervision", "training", "committee")
SIZE_CATEGORIES = ("small", "medium", "large", "extra_large")


class EsaAreaRecorded(Payload):
    esa_code = code(required=True)
    name_th = fields.String(required=True)
    name_en = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(["primary", "secondary"]))
    province_code = code(required=True)
    effective_from = fields.Date(required=True)


class ClusterRecorded(Payload):
    cluster_id = code(required=True)
    name_th = fields.String(required=True)
    name_en = fields.String(required=True)
    esa_code = code(required=True)
    province_code = code(required=True)
    coordinator = fields.String(load_default="")
    models = fields.List(fields.String(validate=validate.OneOf(MODELS)), required=True)
    effective_from = fields.Date(required=True)


class SchoolRecorded(Payload):
    school_code = code(required=True)
    name_th = fields.String(required=True)
    name_en = fields.String(required=True)
    esa_code = code(required=True)
    cluster_id = code(required=True, allow_none=True)
    province_code = code(required=True)
    amphoe = fields.String(load_default="")
    size_category = fields.String(required=True, validate=validate.OneOf(SIZE_CATEGORIES))
    students = fields.Integer(required=True, validate=validate.Range(min=0))
    teachers = fields.Integer(required=True, validate=validate.Range(min=0))
    effective_from = fields.Date(required=True)


class TeacherRecorded(Payload):
    teacher_id = code(required=True)
    school_code = code(required=True)
    name_th = fields.String(required=True)
    name_en = fields.String(load_default="")
    email = fields.String(load_default="")
    subject = fields.String(load_default="")
    effective_from = fields.Date(required=True)


catalog.register("directory.EsaAreaRecorded", 1, EsaAreaRecorded)
catalog.register("directory.ClusterRecorded", 1, ClusterRecorded)
catalog.register("directory.SchoolRecorded", 1, SchoolRecorded)
catalog.register("directory.TeacherRecorded", 1, TeacherRecorded)
