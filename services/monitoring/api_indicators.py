"""Indicator API: the catalogue with its effective targets, and every indicator of a unit and its children with
a status (on track, at risk, off track) for a semester."""

from __future__ import annotations

from typing import Any

from flask.blueprints import BlueprintSetupState
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from services.monitoring import indicators
from services.monitoring.api import read_unit
from services.monitoring.schemas import PeriodQuerySchema
from services.monitoring.schemas_indicators import CatalogueSchema, IndicatorTableSchema
from shared.web import resources

blp = Blueprint(
    "indicators",
    __name__,
    url_prefix="/api/v1",
    description="Indicators with targets and status / ตัวชี้วัด เป้าหมาย และสถานะ",
)


@blp.record_once
def _load_catalogue(state: BlueprintSetupState) -> None:
    """A bad targets file stops the service when it starts, not on the first request."""
    indicators.catalogue(state.app.extensions["anp"].settings.indicator_targets_file)


def current_catalogue() -> indicators.Catalogue:
    return indicators.catalogue(resources().settings.indicator_targets_file)


@blp.route("/indicators")
class CatalogueResource(MethodView):
    @blp.response(200, CatalogueSchema)
    def get(self) -> dict[str, Any]:
        """The indicator catalogue: names, formulas, units, the better direction and the effective targets.

        Targets are the defaults unless the deployment overrides them (`ANP_INDICATOR_TARGETS_FILE`).
        """
        return indicators.describe(current_catalogue())


@blp.route("/indicators/<string:level>/<string:code>")
class UnitIndicatorsResource(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, IndicatorTableSchema)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> dict[str, Any]:
        """Every indicator of a unit and of its children for a semester, with targets and a status.

        Levels as for `/views`; without a period the current semester is used. A status is `on_track`,
        `at_risk`, `off_track`, or `no_data` when the figure cannot be computed (nothing recorded yet).
        """
        view, period = read_unit(level, code, args)
        return indicators.evaluate_view(view, period, current_catalogue())
