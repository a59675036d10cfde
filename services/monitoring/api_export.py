"""Export API: any view, indicator table, alert list or what-works analysis as a CSV or XLSX download, under the same scope rules as the JSON.

A new kind of export is a table function in `export.py` returning `(rows, columns)` and a route here that
reads what it needs and calls `_send`.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, fields, validate

from services.monitoring import export, indicators
from services.monitoring.api import read_unit
from services.monitoring.api_alerts import STATUS_CHOICES, alert_rows
from services.monitoring.api_indicators import current_catalogue
from services.monitoring.api_what_works import WhatWorksQuerySchema, analyse
from services.monitoring.schemas import PeriodQuerySchema, ViewQuerySchema
from shared.schemas import StrictSchema
from shared.web import principal, resources

blp = Blueprint("export", __name__, url_prefix="/api/v1", description="Downloads as CSV or XLSX / ส่งออกข้อมูล")


def _format() -> fields.String:
    return fields.String(
        load_default="csv",
        validate=validate.OneOf(sorted(export.FORMATS)),
        metadata={"description": "csv (UTF-8 with BOM, opens in Excel with Thai intact) or xlsx"},
    )


class ViewExportQuerySchema(ViewQuerySchema):
    format = _format()


class IndicatorExportQuerySchema(PeriodQuerySchema):
    format = _format()


FILE = {"schema": {"type": "string", "format": "binary"}}
DOWNLOAD = {
    "200": {
        "description": "The table as an attachment",
        "content": {"text/csv": FILE, export.XLSX_TYPE: FILE},
    }
}


def _send(table: export.Table, filename: str, fmt: str) -> Response:
    rows, columns = table
    return export.download(rows, columns, filename, fmt)


@blp.route("/export/views/<string:level>/<string:code>")
class ViewExport(MethodView):
    @blp.arguments(ViewExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses=DOWNLOAD)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> Response:
        """A unit's figures and its children's (as `/views`), one row per unit, the unit first.

        Nested figures become dotted columns (`supervision.coverage`); lists such as
        `achievement.results` are left out.
        """
        view, period = read_unit(level, code, args)
        return _send(export.view_table(view), f"view-{level}-{code}-{period.key}", args["format"])


@blp.route("/export/indicators/<string:level>/<string:code>")
class IndicatorExport(MethodView):
    @blp.arguments(IndicatorExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses=DOWNLOAD)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> Response:
        """The indicators of a unit and its children (as `/indicators/{level}/{code}`), one row per unit
        and indicator, with value, target and status."""
        view, period = read_unit(level, code, args)
        table = indicators.evaluate_view(view, period, current_catalogue())
        return _send(export.indicator_table(table), f"indicators-{level}-{code}-{period.key}", args["format"])


class WhatWorksExportQuerySchema(WhatWorksQuerySchema):
    format = _format()


@blp.route("/export/what-works/<string:level>/<string:code>")
class WhatWorksExport(MethodView):
    @blp.arguments(WhatWorksExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses=DOWNLOAD)
    @blp.alt_response(404, description="No such ESA area or province in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> Response:
        """The what-works groups of an ESA area or province (as `/what-works`), one row per group."""
        analysis = analyse(level, code, args.get("academic_year"))
        name = f"what-works-{level}-{code}-{analysis['academic_year']}"
        return _send(export.what_works_table(analysis), name, args["format"])


class AlertExportQuerySchema(StrictSchema):
    format = _format()
    status = fields.String(load_default="open", validate=validate.OneOf(STATUS_CHOICES))


@blp.route("/export/alerts/<string:level>/<string:code>")
class AlertExport(MethodView):
    @blp.arguments(AlertExportQuerySchema, location="query", unknown=RAISE)
    @blp.doc(responses=DOWNLOAD)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> Response:
        """The alerts of a unit and every unit below it (as `/alerts/{level}/{code}`), newest first."""
        table = alert_rows(resources().store.db, principal(), level, code, args["status"])
        return _send(table, f"alerts-{level}-{code}-{args['status']}", args["format"])
