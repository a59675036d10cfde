"""Alert events of the monitoring service (`monitoring.events`).

An alert is one (rule, level, code): a rule's condition on one org unit's figures. It is raised when the
condition becomes true and cleared when it ends; each transition is one event, so a reader of the topic sees
an alternating AlertRaised / AlertCleared sequence per `alert_id`, ordered by the envelope's
`aggregate_version`. The envelope's org is the unit's org path (empty for the nation).
"""

from __future__ import annotations

from marshmallow import fields, validate

from shared.catalog import catalog, common
from shared.catalog.common import Payload

# the levels of the org tree (kept here: contracts never import a service)
LEVELS = ("school", "cluster", "esa", "province", "national")
ALERT_ID = validate.Regexp(r"^[a-z0-9_]{1,60}:[a-z]{1,20}:[A-Za-z0-9_-]{1,40}$")


class AlertPayload(Payload):
    alert_id = fields.String(required=True, validate=ALERT_ID, metadata={"description": "rule:level:code"})
    rule = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,60}$"))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    code = common.code(required=True)
    name_th = fields.String(load_default="")
    name_en = fields.String(load_default="")
    # the figure the rule judged (None: nothing to measure, e.g. a school never visited)
    value = fields.Float(required=True, allow_none=True)
    threshold = fields.Float(required=True)
    message_th = fields.String(required=True, validate=validate.Length(min=1))
    message_en = fields.String(required=True, validate=validate.Length(min=1))
    # a relative API URL of the view the rule read
    evidence = fields.String(required=True, validate=validate.Regexp(r"^/api/v1/\S+$"))
    details = fields.List(fields.Dict(), load_default=list)
    raised_at = fields.AwareDateTime(required=True)


class AlertRaised(AlertPayload):
    pass


class AlertCleared(AlertPayload):
    cleared_at = fields.AwareDateTime(required=True)


catalog.register("monitoring.AlertRaised", 1, AlertRaised)
catalog.register("monitoring.AlertCleared", 1, AlertCleared)
