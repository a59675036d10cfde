"""The achievement HTTP API: import a results file, read results, imports and the test catalogue.

`POST /imports` answers 201 with the import's summary when at least one row was good (new, corrected or
unchanged) or the file had no error; rows with errors are listed with their line and column, nothing of them
is stored, and the good rows of the same file are stored (`good_rows_stored`). It answers 422 when nothing of
the file could be used: an unreadable file, a bad header, or every row failed (the errors come in the shared
error shape, under `errors.rows`, with the `import_id` of the stored import record).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from werkzeug.exceptions import UnsupportedMediaType

from services.achievement import handlers
from services.achievement.bootstrap import repository
from services.achievement.domain import Result
from services.achievement.rows import CSV, XLSX
from services.achievement.schemas import (
    CSV_TYPE,
    IMPORT_BODY,
    XLSX_TYPE,
    ImportArgsSchema,
    ImportPageSchema,
    ImportQuerySchema,
    ImportSchema,
    ImportSummarySchema,
    ResultPageSchema,
    ResultQuerySchema,
    ResultSchema,
    TestCatalogueSchema,
)
from shared.achievement_tests import RESULT_SEMESTER, subjects, tests
from shared.errors import Invalid
from shared.schemas import WriteHeadersSchema
from shared.web import idempotent, principal, request_context

blp = Blueprint(
    "achievement",
    __name__,
    url_prefix="/api/v1",
    description="Student achievement / ผลสัมฤทธิ์ทางการเรียน: O-NET, NT, RT and school GPA per school",
)

READ_ERRORS = (401, 403, 404)
FORMATS = {CSV_TYPE: CSV, XLSX_TYPE: XLSX}
DEFAULT_NAMES = {CSV: "upload.csv", XLSX: "upload.xlsx"}

# The POLICY action each endpoint performs (OpenAPI paths), for the authorization-matrix tests.
ENDPOINT_ACTIONS: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/imports"): "result.import",
    ("GET", "/api/v1/imports"): "import.read",
    ("GET", "/api/v1/imports/{import_id}"): "import.read",
    ("GET", "/api/v1/results"): "result.read",
    ("GET", "/api/v1/results/{result_id}"): "result.read",
}
PUBLIC_TO_CALLERS: set[tuple[str, str]] = {("GET", "/api/v1/tests")}  # any signed-in user


def errors(*codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document the shared error responses (one JSON shape) a view can answer with."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        for code in codes:
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate


def _page(result: tuple[list[Any], int], args: dict[str, Any]) -> dict[str, Any]:
    items, total = result
    return {"items": items, "total": total, "page": args["page"], "page_size": args["page_size"]}


@blp.route("/imports")
class Imports(MethodView):
    @idempotent
    @blp.arguments(WriteHeadersSchema, location="headers")
    @blp.arguments(ImportArgsSchema, location="query", unknown=RAISE)
    @blp.doc(requestBody=IMPORT_BODY)
    @blp.response(201, ImportSummarySchema)
    @errors(401, 403, 413, 415, 422)
    def post(self, _headers: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        """Import results from a CSV or XLSX file sent as the body (up to the request size limit).

        Each row is one school's result in one test, year, subject and grade. A row equal to the stored
        result writes nothing; a different one corrects it (the event names the replaced values). Rows with
        errors come back with line and column and are not stored; the other rows are. 201 when any row was
        good or none failed; 422 when nothing of the file could be used. Large (national) files go through
        `python -m services.achievement.cli import FILE`, which has no size limit."""
        fmt = FORMATS.get(request.mimetype)
        if fmt is None:
            raise UnsupportedMediaType(
                f"send the file as the body, with Content-Type: {CSV_TYPE} or {XLSX_TYPE}"
            )
        data = request.get_data(cache=True)  # beyond MAX_CONTENT_LENGTH: 413 (shared.web)
        name = args.get("file_name") or DEFAULT_NAMES[fmt]
        summary = handlers.import_results(io.BytesIO(data), name, fmt, repository(), request_context())
        if summary["errors"] and not (summary["new"] + summary["corrected"] + summary["unchanged"]):
            raise Invalid(
                f"nothing of the file could be imported (import {summary['import_id']})",
                {"import_id": summary["import_id"], "rows": summary["errors"]},
            )
        return summary

    @blp.arguments(ImportQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ImportPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The imports made in the caller's scope, newest first (a national caller: all)."""
        return _page(handlers.list_imports(args, repository(), principal()), args)


@blp.route("/imports/<string:import_id>")
class ImportById(MethodView):
    @blp.response(200, ImportSchema)
    @errors(*READ_ERRORS)
    def get(self, import_id: str) -> dict[str, Any]:
        """One import: who, when, which file, its counts and (the first 1000 of) its row errors."""
        return handlers.get_import(import_id, repository(), principal())


@blp.route("/results")
class Results(MethodView):
    @blp.arguments(ResultQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ResultPageSchema)
    @errors(401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Results in the caller's scope, newest year first; filter by test, year, subject, grade, org unit."""
        return _page(handlers.list_results(args, repository(), principal()), args)


@blp.route("/results/<string:result_id>")
class ResultById(MethodView):
    @blp.response(200, ResultSchema)
    @errors(*READ_ERRORS)
    def get(self, result_id: str) -> Result:
        """One result, e.g. `onet-2568-13010001-math-P6`."""
        return handlers.get_result(result_id, repository(), principal())


@blp.route("/tests")
class TestCatalogue(MethodView):
    @blp.response(200, TestCatalogueSchema)
    @errors(401)
    def get(self) -> dict[str, Any]:
        """The tests and school grades this service imports: grades, subjects, score scale, Thai and English
        names. Any signed-in user may read it."""
        names = subjects()
        return {
            "semester": RESULT_SEMESTER,
            "tests": [
                {
                    "code": test.code,
                    "name_th": test.name_th,
                    "name_en": test.name_en,
                    "scale": list(test.scale),
                    "grades": [
                        {"grade": grade, "subjects": [names[s] for s in codes if s in names]}
                        for grade, codes in test.grades.items()
                    ],
                }
                for test in tests().values()
            ],
        }
