"""What works: achievement change by network practice against comparable schools, per ESA area or province."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from services.monitoring import queries
from services.monitoring.what_works import what_works
from shared.errors import NotFound
from shared.schemas import StrictSchema
from shared.web import principal, resources

blp = Blueprint(
    "what-works",
    __name__,
    url_prefix="/api/v1",
    description="What works: network practice and achievement change / แนวปฏิบัติที่สัมพันธ์กับผลสัมฤทธิ์",
)


class WhatWorksQuerySchema(StrictSchema):
    academic_year = fields.Integer(
        validate=validate.Range(min=2500, max=2700),
        metadata={"description": "results year (Buddhist Era); default: the latest with results"},
    )


class GroupSchema(Schema):
    mix = fields.List(fields.String(), metadata={"description": "models the network practised (by mix)"})
    band = fields.String(metadata={"description": "activity intensity band (by intensity)"})
    label_th = fields.String()
    label_en = fields.String()
    schools = fields.Integer()
    networks = fields.Integer()
    too_few = fields.Boolean(metadata={"description": "fewer schools than min_group: no figures shown"})
    mean_change = fields.Float(allow_none=True, metadata={"description": "O-NET points, year on year"})
    mean_relative_change = fields.Float(
        allow_none=True, metadata={"description": "change minus comparable schools' mean change"}
    )
    median_relative_change = fields.Float(allow_none=True)
    sd_relative_change = fields.Float(allow_none=True)
    p25_relative_change = fields.Float(allow_none=True)
    p75_relative_change = fields.Float(allow_none=True)
    min_relative_change = fields.Float(allow_none=True)
    max_relative_change = fields.Float(allow_none=True)


class WhatWorksSchema(Schema):
    level = fields.String()
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    academic_year = fields.Integer()
    previous_year = fields.Integer()
    schools_analysed = fields.Integer()
    schools_excluded = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_mix = fields.List(fields.Nested(GroupSchema))
    by_intensity = fields.List(fields.Nested(GroupSchema))
    min_group = fields.Integer()
    caveat_th = fields.String()
    caveat_en = fields.String()


@blp.route("/what-works/<string:level>/<string:code>")
class WhatWorksResource(MethodView):
    @blp.arguments(WhatWorksQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, WhatWorksSchema)
    @blp.alt_response(404, description="No such ESA area or province in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> dict[str, Any]:
        """For an ESA area (`esa`) or a province: schools' O-NET change against comparable schools (same
        province and size category), grouped by their network's mix of the three models and by its activity
        intensity, with counts and spread. An association, not causation."""
        return analyse(level, code, args.get("academic_year"))


def analyse(level: str, code: str, year: int | None) -> dict[str, Any]:
    """The analysis of a unit in the caller's scope; the latest results year when `year` is None."""
    if level not in ("esa", "province") or not 0 < len(code) <= 40:
        raise NotFound("what works is analysed per ESA area (esa) or province")
    db = resources().store.db
    unit = queries.scoped_unit(db, principal(), level, code)
    up_to = queries.results_year(queries.current_period())
    year = year or queries.latest_results_year(db, unit, up_to) or up_to
    return what_works(db, unit, year, resources().settings.achievement_min_tested)
