"""Student-achievement events (`achievement.events`): one school's result in one test, subject and grade.

A result is identified by (test, academic year, school, subject, grade). Importing it again with the same values
publishes nothing; a correction publishes the new values with the ones it `replaces`, so a reader adjusts its
sums by the difference without keeping every result. Results count in semester 2 of their academic year.
"""

from __future__ import annotations

from marshmallow import fields, validate

from shared.achievement_tests import TEST_CODES
from shared.catalog import catalog
from shared.catalog.common import Payload, Period, code


class Replaced(Payload):
    mean = fields.Float(required=True, validate=validate.Range(min=0))
    tested = fields.Integer(required=True, validate=validate.Range(min=0))


class Band(Payload):
    band = fields.String(required=True)  # the score band's label, e.g. "0-19.99"
    students = fields.Integer(required=True, validate=validate.Range(min=0))


class ResultRecorded(Payload):
    result_id = code(required=True)
    test = fields.String(required=True, validate=validate.OneOf(TEST_CODES))
    academic_year = fields.Integer(required=True, validate=validate.Range(min=2500, max=2700))
    school_code = code(required=True)
    subject = code(required=True)
    grade = code(required=True)
    mean = fields.Float(required=True, validate=validate.Range(min=0))
    tested = fields.Integer(required=True, validate=validate.Range(min=0))
    # the score distribution, where the source file has one: a list, so band labels never become field names
    distribution = fields.List(fields.Nested(Band))
    replaces = fields.Nested(Replaced, load_default=None, allow_none=True)
    period = fields.Nested(Period, required=True)


catalog.register("achievement.ResultRecorded", 1, ResultRecorded)
