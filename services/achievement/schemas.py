"""Request and response schemas. An import's body is the file itself (CSV or XLSX), not JSON."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.achievement.rows import REQUIRED
from shared.achievement_tests import TEST_CODES, subjects, tests
from shared.schemas import Code, EntitySchema, OrgFilterSchema, PageMetaSchema, StrictSchema, page_of

CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GRADES = tuple(sorted({grade for test in tests().values() for grade in test.grades}))
SUBJECTS = tuple(sorted(subjects()))
FILE_NAME = validate.Regexp(r"^[^/\\\x00]{1,200}$", error="a file name of 1-200 characters, without a path")

IMPORT_BODY = {
    "required": True,
    "description": "A results file as the request body: CSV in UTF-8 (a BOM is fine; `Content-Type: text/csv`) "
    f"or an Excel workbook (`Content-Type: {XLSX_TYPE}`, the first sheet). The first row names the columns: "
    f"{', '.join(REQUIRED)}, and optionally a score distribution as `band_<label>` columns (e.g. "
    "`band_0-19.99`) whose counts add up to `tested`. At most the service's request size limit (413 beyond "
    "it): national files go through `python -m services.achievement.cli import FILE` instead. E.g. "
    "`curl --data-binary @results.csv -H 'Content-Type: text/csv' .../api/v1/imports?file_name=results.csv`",
    "content": {
        CSV_TYPE: {"schema": {"type": "string", "format": "binary"}},
        XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
    },
}


# --- requests -------------------------------------------------------------------------------------------


class ImportArgsSchema(StrictSchema):
    file_name = fields.String(validate=FILE_NAME, metadata={"description": "recorded with the import"})


class ImportQuerySchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ResultQuerySchema(OrgFilterSchema):
    test = fields.String(validate=validate.OneOf(TEST_CODES))
    subject = Code(metadata={"description": "e.g. math, literacy, reading_aloud"})
    grade = fields.String(validate=validate.OneOf(GRADES))


# --- responses ------------------------------------------------------------------------------------------


class RowErrorSchema(Schema):
    line = fields.Integer(metadata={"description": "as a spreadsheet shows it: the header is line 1"})
    column = fields.String(metadata={"description": "the column(s) at fault; empty for the whole row"})
    message = fields.String()


class ImportCountsSchema(Schema):
    import_id = fields.String(attribute="_id")
    file_name = fields.String()
    format = fields.String(metadata={"description": "csv or xlsx"})
    actor = fields.String()
    role = fields.String()
    scope = fields.Dict()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    status = fields.String(
        metadata={"description": "running, completed, completed_with_errors, failed (no good row) or aborted"}
    )
    rows = fields.Integer(metadata={"description": "data rows read (blank rows are skipped)"})
    new = fields.Integer()
    corrected = fields.Integer()
    unchanged = fields.Integer()
    failed_rows = fields.Integer()
    error_count = fields.Integer()


class ImportSchema(ImportCountsSchema):
    errors = fields.List(fields.Nested(RowErrorSchema), metadata={"description": "the first 1000"})


class ImportSummarySchema(Schema):
    import_id = fields.String()
    file_name = fields.String()
    format = fields.String()
    started_at = fields.DateTime()
    finished_at = fields.DateTime()
    status = fields.String()
    rows = fields.Integer()
    new = fields.Integer(metadata={"description": "results stored for the first time (one event each)"})
    corrected = fields.Integer(metadata={"description": "stored results replaced (one event each)"})
    unchanged = fields.Integer(metadata={"description": "equal to the stored result: nothing written"})
    failed_rows = fields.Integer()
    error_count = fields.Integer()
    errors = fields.List(fields.Nested(RowErrorSchema))
    good_rows_stored = fields.Boolean(
        metadata={"description": "true when the file had errors and its good rows were stored anyway"}
    )
    note = fields.String()


ImportPageSchema = type(
    "ImportPageSchema", (PageMetaSchema,), {"items": fields.List(fields.Nested(ImportCountsSchema))}
)


class BandSchema(Schema):
    band = fields.String(metadata={"description": "score band, e.g. 0-19.99"})
    students = fields.Integer()


class ResultSchema(EntitySchema):
    test = fields.String()
    academic_year = fields.Integer(metadata={"description": "Buddhist Era"})
    school_code = fields.String()
    subject = fields.String()
    grade = fields.String()
    mean = fields.Float()
    tested = fields.Integer()
    distribution = fields.List(fields.Nested(BandSchema), allow_none=True)
    import_id = fields.String()
    recorded_by = fields.String()


ResultPageSchema = page_of(ResultSchema)


class SubjectSchema(Schema):
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()


class GradeSchema(Schema):
    grade = fields.String()
    subjects = fields.List(fields.Nested(SubjectSchema))


class TestSchema(Schema):
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    scale = fields.List(fields.Float(), metadata={"description": "[lowest, highest] mean"})
    grades = fields.List(fields.Nested(GradeSchema))


class TestCatalogueSchema(Schema):
    semester = fields.Integer(metadata={"description": "results count in this semester of their year"})
    tests = fields.List(fields.Nested(TestSchema))
