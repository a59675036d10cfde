"""Monitoring read API: live views by level and code, with children for drill-down, and projector lag."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from kafka.errors import KafkaError
from marshmallow import RAISE

from services.monitoring import queries
from services.monitoring.figures_cache import FiguresCache
from services.monitoring.schemas import LagSchema, PeriodListSchema, ViewQuerySchema, ViewSchema
from shared.calendar import Period, today
from shared.clients import kafka_consumer
from shared.envelope import utcnow
from shared.web import principal, resources

blp = Blueprint(
    "views", __name__, url_prefix="/api/v1", description="Live performance views / มุมมองผลการดำเนินงาน"
)

_lag_consumer_lock = threading.Lock()
LAG_CONNECT_TIMEOUT_MS = 2000  # the longest a request waits for an unreachable broker
LAG_RETRY_S = 10.0  # after which the lag consumer is tried again
FIGURES_CACHE = "anp.figures_cache"  # app extension: the FiguresCache of this process
VIEW_SCHEMA = ViewSchema()  # its dump is compiled once


@blp.route("/views/<string:level>/<string:code>")
class ViewResource(MethodView):
    @blp.arguments(ViewQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ViewSchema)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> Response:
        """One unit's figures for a semester, with its children for drill-down.

        Levels: school, cluster, esa (district), province, national (code `TH`). Without a period the current
        semester is used. Committee totals and inactivity are as of today, whatever the semester;
        `inactive_days` sets the inactivity threshold.
        """
        return view_page(level, code, args)


def view_page(level: str, code: str, args: dict[str, Any]) -> Response:
    """The page as dumped, from the figures cache while the projector has not moved: a national page is about
    900 KB of JSON, whose dump costs more than reading its figures. Keyed by the caller's scope, which decides
    whether the unit is found and what the page shows (small cells, the breadcrumbs one may open)."""
    db, caller = resources().store.db, principal()
    period, options = requested_period(args), read_options(args)

    def dumped() -> tuple[dict[str, Any], datetime | None]:
        view = queries.read_view(db, caller, level, code, period, options)
        return VIEW_SCHEMA.dump(view), view["as_of"]

    key = ("view page", level, code, period, options, caller.scope_level, caller.scope_code)
    page, as_of = figures_cache().figures(db, key, dumped)
    age = (utcnow() - as_of).total_seconds() if as_of else None
    return current_app.json.response({**page, "age_seconds": age})


def read_unit(level: str, code: str, args: dict[str, Any]) -> tuple[dict[str, Any], Period]:
    """`queries.read_view` for validated query arguments (period, inactive_days): 404 outside one's scope."""
    period = requested_period(args)
    db = resources().store.db
    view = queries.read_view(db, principal(), level, code, period, read_options(args), figures_cache())
    return view, period


def figures_cache() -> FiguresCache:
    return current_app.extensions[FIGURES_CACHE]


def requested_period(args: dict[str, Any]) -> Period:
    """The semester of validated query arguments (academic_year, semester); the current one by default."""
    current = queries.current_period()
    return Period(args.get("academic_year", current.academic_year), args.get("semester", current.semester))


def read_options(args: dict[str, Any]) -> queries.ReadOptions:
    """The configured thresholds (or the query's `inactive_days`), as of today."""
    settings = resources().settings
    inactive_days = args.get("inactive_days", settings.committee_inactive_days)
    return queries.ReadOptions(inactive_days, today(), settings.achievement_min_tested)


@blp.route("/periods")
class PeriodsResource(MethodView):
    @blp.response(200, PeriodListSchema)
    def get(self) -> dict[str, Any]:
        """The academic calendar (Buddhist Era years) and the current semester."""
        return queries.all_periods()


@blp.route("/projector/lag")
class LagResource(MethodView):
    @blp.response(200, LagSchema)
    def get(self) -> dict[str, Any]:
        """How far the projector is behind the broker, per partition."""
        settings = resources().settings
        return queries.projector_lag(resources().store.db, settings.projector_group, lag_consumer())


def lag_consumer() -> Any:
    """One group-less consumer per process for end offsets; None while the broker is unreachable.

    Every open dashboard page polls the pulse, which asks this: a broker that does not answer costs one
    bounded wait, then None at once until the retry time, rather than a long wait per request."""
    extensions = current_app.extensions
    with _lag_consumer_lock:
        if extensions.get("anp.lag_consumer") is None:
            if time.monotonic() < extensions.get("anp.lag_consumer_retry_at", 0.0):
                return None
            try:
                extensions["anp.lag_consumer"] = kafka_consumer(
                    resources().settings, group_id=None, bootstrap_timeout_ms=LAG_CONNECT_TIMEOUT_MS
                )
            except KafkaError:
                extensions["anp.lag_consumer_retry_at"] = time.monotonic() + LAG_RETRY_S
                return None
        return extensions["anp.lag_consumer"]
