"""Alerts API: the alerts of an org unit and every unit below it, and the rules with effective thresholds."""

from __future__ import annotations

from typing import Any

from flask.blueprints import BlueprintSetupState
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from pymongo.database import Database

from services.monitoring import alerts, queries
from shared.auth import Principal
from shared.errors import Invalid
from shared.schemas import OrgOutSchema, StrictSchema
from shared.web import principal, resources

blp = Blueprint(
    "alerts", __name__, url_prefix="/api/v1", description="Alerts raised and cleared live / การแจ้งเตือน"
)

STATUS_CHOICES = (*alerts.STATUSES, "all")
MAX_EXPORT_ROWS = 100_000
ORG_COLUMNS = ("school_code", "cluster_id", "esa_code", "province_code")
EXPORT_COLUMNS = [
    "alert_id",
    "rule",
    "rule_name_th",
    "rule_name_en",
    "level",
    "code",
    "name_th",
    "name_en",
    *ORG_COLUMNS,
    "status",
    "value",
    "threshold",
    "message_th",
    "message_en",
    "evidence",
    "raised_at",
    "cleared_at",
]


@blp.record_once
def _load_rules(state: BlueprintSetupState) -> None:
    """A bad rules overrides file stops the service when it starts, not on the first request."""
    alerts.rules(state.app.extensions["anp"].settings)


class AlertQuerySchema(StrictSchema):
    status = fields.String(load_default="open", validate=validate.OneOf(STATUS_CHOICES))
    rule = fields.String(validate=validate.Regexp(r"^[a-z0-9_]{1,60}$"))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=200),
    )


class AlertSchema(Schema):
    alert_id = fields.String(metadata={"description": "rule:level:code"})
    rule = fields.String()
    rule_name_th = fields.String()
    rule_name_en = fields.String()
    level = fields.String()
    code = fields.String()
    name_th = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    org = fields.Nested(OrgOutSchema)
    status = fields.String(metadata={"description": "open or cleared"})
    value = fields.Float(allow_none=True, metadata={"description": "the figure the rule judged"})
    threshold = fields.Float(allow_none=True)
    message_th = fields.String()
    message_en = fields.String()
    evidence = fields.String(metadata={"description": "relative API URL of the view the rule read"})
    details = fields.List(fields.Dict())
    raised_at = fields.DateTime()
    cleared_at = fields.DateTime(allow_none=True)
    changed_at = fields.DateTime()
    updated_at = fields.DateTime()


class AlertPageSchema(Schema):
    level = fields.String()
    code = fields.String()
    status = fields.String()
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(AlertSchema))


class ThresholdSchema(Schema):
    name = fields.String()
    value = fields.Float(metadata={"description": "effective value"})
    default = fields.Float(allow_none=True)
    setting = fields.String(allow_none=True, metadata={"description": "settings field used when no default"})
    min = fields.Float()
    max = fields.Float()
    integer = fields.Boolean()
    label_th = fields.String()
    label_en = fields.String()


class RuleSchema(Schema):
    code = fields.String()
    name_th = fields.String()
    name_en = fields.String()
    description_th = fields.String()
    description_en = fields.String()
    levels = fields.List(fields.String())
    thresholds = fields.List(fields.Nested(ThresholdSchema))


class RuleListSchema(Schema):
    rules = fields.List(fields.Nested(RuleSchema))


@blp.route("/alerts/<string:level>/<string:code>")
class AlertsResource(MethodView):
    @blp.arguments(AlertQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, AlertPageSchema)
    @blp.alt_response(404, description="No such unit in the caller's scope")
    def get(self, args: dict[str, Any], level: str, code: str) -> dict[str, Any]:
        """The alerts of a unit and of every unit below it, most recently raised or cleared first.

        `status` open (default), cleared or all; `rule` narrows to one rule (see `/alert-rules`). Each alert
        links to its evidence, the view its rule read.
        """
        db = resources().store.db
        queries.scoped_unit(db, principal(), level, code)
        page_size = min(args["page_size"], resources().settings.max_page_size)
        query = alerts.list_query(level, code, args["status"], args.get("rule"))
        cursor = db[alerts.ALERTS].find(query).sort(alerts.NEWEST_FIRST)
        items = list(cursor.skip((args["page"] - 1) * page_size).limit(page_size))
        return {
            "level": level,
            "code": code,
            "status": args["status"],
            "page": args["page"],
            "page_size": page_size,
            "total": db[alerts.ALERTS].count_documents(query),
            "items": items,
        }


@blp.route("/alert-rules")
class AlertRulesResource(MethodView):
    @blp.response(200, RuleListSchema)
    def get(self) -> dict[str, Any]:
        """The alert rules: what each watches, the levels it applies to and its effective thresholds.

        Thresholds are the defaults unless the deployment overrides them (`ANP_ALERT_RULES_FILE`).
        """
        return {"rules": [rule.describe() for rule in alerts.rules(resources().settings)]}


def alert_rows(
    db: Database, caller: Principal, level: str, code: str, status: str = "open"
) -> tuple[list[dict[str, Any]], list[str]]:
    """The alerts of a unit and below as flat rows for a download (404 outside the caller's scope)."""
    if status not in STATUS_CHOICES:
        raise Invalid(f"unknown status {status!r}; one of {list(STATUS_CHOICES)}")
    queries.scoped_unit(db, caller, level, code)
    cursor = db[alerts.ALERTS].find(alerts.list_query(level, code, status)).sort(alerts.NEWEST_FIRST)
    rows = []
    for doc in cursor.limit(MAX_EXPORT_ROWS):
        org = doc.get("org") or {}
        rows.append({c: org.get(c) if c in ORG_COLUMNS else doc.get(c) for c in EXPORT_COLUMNS})
    return rows, list(EXPORT_COLUMNS)
