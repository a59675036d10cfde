"""The public transparency API, answered without a token: indicators of the nation, a province or an ESA
area as any outsider sees them (small cells hidden), their trends, and the academic calendar. School-level data never
appears: no school unit is read, and an ESA area is shown without its clusters and schools."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE
from pymongo.database import Database

from services.monitoring import indicators, queries, trends
from services.monitoring.api import figures_cache, read_options, requested_period
from services.monitoring.api_indicators import current_catalogue
from services.monitoring.schemas import PeriodListSchema, PeriodQuerySchema
from services.monitoring.schemas_indicators import IndicatorTableSchema
from services.monitoring.schemas_live import TrendsQuerySchema, TrendsSchema
from services.monitoring.views import UNITS
from shared.calendar import Period, periods_ending
from shared.errors import NotFound
from shared.web import resources

blp = Blueprint(
    "public",
    __name__,
    url_prefix="/api/v1/public",
    description="Public indicators, no sign-in / ตัวชี้วัดสาธารณะ ไม่ต้องเข้าสู่ระบบ",
)
PUBLIC_ENDPOINTS = {
    "public.PublicIndicatorsResource",
    "public.PublicTrendsResource",
    "public.PublicPeriodsResource",
}

# the levels shown publicly, and the level of the children listed with each (none below an ESA area)
CHILD_LEVEL: dict[str, str | None] = {"national": "province", "province": "esa", "esa": None}


@blp.route("/indicators/<string:level>/<string:code>")
class PublicIndicatorsResource(MethodView):
    @blp.doc(security=[])
    @blp.arguments(PeriodQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, IndicatorTableSchema)
    @blp.alt_response(404, description="No such unit, or a level that is not public")
    def get(self, args: dict[str, Any], level: str, code: str) -> dict[str, Any]:
        """Every indicator of the nation (`TH`), a province or an ESA area, as an outsider sees it.

        Same shape as `/indicators/{level}/{code}`; results of fewer pupils than the small-cell threshold
        are hidden. Children: the provinces of the nation, the ESA areas of a province, none for an ESA area.
        """
        period = requested_period(args)
        options = read_options({})
        return public_indicators(resources().store.db, level, code, period, options)


def public_indicators(
    db: Database, level: str, code: str, period: Period, options: queries.ReadOptions
) -> dict[str, Any]:
    unit = public_unit(db, level, code)
    child_level = CHILD_LEVEL[level]
    children = _children(db, unit, child_level) if child_level else []
    figures = queries.figures_of(
        db, [unit, *children], period, options, viewer=queries.OUTSIDER, cache=figures_cache()
    )
    view = {**figures[0], "period": queries.period_dict(period), "children": figures[1:]}
    return indicators.evaluate_view(view, period, current_catalogue())


def public_unit(db: Database, level: str, code: str) -> dict[str, Any]:
    if level not in CHILD_LEVEL:
        raise NotFound(f"no public {level!r} level")
    # the outsider's national scope makes this an existence check: every public unit is open to all
    return queries.scoped_unit(db, queries.OUTSIDER, level, code)


@blp.route("/trends/<string:level>/<string:code>")
class PublicTrendsResource(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TrendsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, TrendsSchema)
    @blp.alt_response(404, description="No such unit, or a level that is not public")
    def get(self, args: dict[str, Any], level: str, code: str) -> dict[str, Any]:
        """The indicators and activity of the nation, a province or an ESA area over the last `semesters`
        semesters, as an outsider sees them; same shape as `/trends/{level}/{code}`."""
        db = resources().store.db
        unit = public_unit(db, level, code)
        periods = periods_ending(requested_period(args), args["semesters"])
        return trends.unit_trends(
            db, unit, periods, read_options(args), queries.OUTSIDER, current_catalogue()
        )


def _children(db: Database, unit: dict[str, Any], level: str) -> list[dict[str, Any]]:
    """The unit's children of `level` only, so no other level can ever be listed publicly."""
    cursor = db[UNITS].find({"parent": unit["_id"], "level": level}).sort("code", 1)
    return list(cursor.limit(queries.MAX_CHILDREN))


@blp.route("/periods")
class PublicPeriodsResource(MethodView):
    @blp.doc(security=[])
    @blp.response(200, PeriodListSchema)
    def get(self) -> dict[str, Any]:
        """The academic calendar (Buddhist Era years) and the current semester, as `/periods`."""
        return queries.all_periods()
