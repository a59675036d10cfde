"""The dashboard's live read API: who the caller is, a cheap pulse each open page polls, a unit's trends
over semesters and a school's recent activity."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from kafka.errors import KafkaError
from marshmallow import RAISE

from services.monitoring import alerts, queries, trends
from services.monitoring.api import lag_consumer, read_options, requested_period
from services.monitoring.api_indicators import current_catalogue
from services.monitoring.folds import activity
from services.monitoring.schemas import PeriodQuerySchema
from services.monitoring.schemas_live import (
    ActivityListSchema,
    ActivityQuerySchema,
    MeSchema,
    PulseSchema,
    TrendsQuerySchema,
    TrendsSchema,
)
from services.monitoring.views import NATIONAL, VIEWS, find_merged, view_key
from shared.calendar import periods_ending
from shared.envelope import utcnow
from shared.web import principal, resources

blp = Blueprint(
    "live",
    __name__,
    url_prefix="/api/v1",
    description="The caller, liveness, trends and school activity / ผู้ใช้ ความสดของข้อมูล แนวโน้ม และกิจกรรม",
)

# the pulse is polled every few seconds: a broker that does not answer quickly counts as unreachable
PULSE_BROKER_TIMEOUT_MS = 1000
ACTIVITY_FIELDS = dict.fromkeys(("at", "model", "kind", "title_th", "title_en", "status_th", "status_en"), 1)


@blp.route("/me")
class MeResource(MethodView):
    @blp.response(200, MeSchema)
    def get(self) -> dict[str, Any]:
        """The caller's identity, role and org scope, and the unit the dashboard opens first."""
        who = principal()
        return {
            "sub": who.sub,
            "name": who.name,
            "role": who.role,
            "scope": {"level": who.scope_level, "code": who.scope_code},
            "home": {"level": who.scope_level, "code": who.scope_code or NATIONAL},
        }


@blp.route("/pulse/<string:level>/<string:code>")
class PulseResource(MethodView):
    @blp.arguments(PeriodQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, PulseSchema)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> dict[str, Any]:
        """What changed, cheaply: the unit's latest projected change, its subtree's alerts and the projector.

        A page polls this and refetches its data when `as_of` or `alerts_changed_at` changes. `as_of` is
        that of the unit's view for the period (default: the current semester), as `/views` reports it.
        """
        db = resources().store.db
        queries.scoped_unit(db, principal(), level, code)
        key = view_key(level, code, requested_period(args).as_dict())
        as_of = find_merged(db[VIEWS], [key], fields={"as_of": 1}).get(key, {}).get("as_of")
        alerts_open, alerts_changed_at = alerts.summary(db, level, code)
        now = utcnow()
        return {
            "as_of": as_of,
            "age_seconds": (now - as_of).total_seconds() if as_of else None,
            "alerts_changed_at": alerts_changed_at,
            "alerts_open": alerts_open,
            "projector": projector_status(),
            "server_time": now,
        }


def projector_status() -> dict[str, Any]:
    """ok, lagging (more unprojected events than ANP_DASHBOARD_LAG_WARN) or unreachable, with the lag."""
    settings = resources().settings
    consumer = lag_consumer()
    if consumer is None:
        return {"status": "unreachable", "lag": None}
    try:
        lag = queries.projector_lag(
            resources().store.db, settings.projector_group, consumer, timeout_ms=PULSE_BROKER_TIMEOUT_MS
        )["total_lag"]
    except KafkaError:
        return {"status": "unreachable", "lag": None}
    lagging = lag is not None and lag > settings.dashboard_lag_warn
    return {"status": "lagging" if lagging else "ok", "lag": lag}


@blp.route("/trends/<string:level>/<string:code>")
class TrendsResource(MethodView):
    @blp.arguments(TrendsQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, TrendsSchema)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> dict[str, Any]:
        """The unit's indicator values and activity counts over the last `semesters` semesters.

        The semesters end with the given one (default: the current semester) and are listed oldest first;
        each value is the one `/indicators/{level}/{code}` shows for that semester.
        """
        db = resources().store.db
        unit = queries.scoped_unit(db, principal(), level, code)
        periods = periods_ending(requested_period(args), args["semesters"])
        return trends.unit_trends(db, unit, periods, read_options(args), principal(), current_catalogue())


@blp.route("/activity/school/<string:code>")
class ActivityResource(MethodView):
    @blp.arguments(ActivityQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ActivityListSchema)
    @blp.alt_response(404, description="No such school in the caller's scope")
    def get(self, args: dict[str, Any], code: str) -> dict[str, Any]:
        """A school's recent supervision, training and committee activity, newest first.

        Titles carry counts, dates, ids and programme titles, never a person's name.
        """
        db = resources().store.db
        queries.scoped_unit(db, principal(), "school", code)
        cursor = db[activity.ACTIVITY].find({"org.school_code": code}, ACTIVITY_FIELDS)
        return {"code": code, "items": list(cursor.sort(activity.NEWEST_FIRST).limit(args["limit"]))}
