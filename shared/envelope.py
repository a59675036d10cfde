"""The integration-event envelope every service publishes (DESIGN.md §3)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate


@dataclass(frozen=True)
class Org:
    """Where an object sits in the org tree, stamped on every event at the source."""

    school_code: str | None
    cluster_id: str | None
    esa_code: str | None
    province_code: str | None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Org:
        return cls(**{k: data.get(k) for k in ("school_code", "cluster_id", "esa_code", "province_code")})


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_event(
    *,
    event_type: str,
    event_version: int,
    producer: str,
    aggregate_id: str,
    aggregate_version: int,
    org: Org,
    payload: dict[str, Any],
    actor: str,
    correlation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> dict[str, Any]:
    """A new envelope as a plain dict, ready for the outbox (datetimes stay datetimes until serialised)."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "event_version": event_version,
        "occurred_at": occurred_at or utcnow(),
        "producer": producer,
        "aggregate_id": aggregate_id,
        "aggregate_version": aggregate_version,
        "correlation_id": correlation_id or str(uuid.uuid4()),
        "actor": actor,
        "org": org.as_dict(),
        "payload": payload,
    }


class OrgSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    school_code = fields.String(allow_none=True, load_default=None)
    cluster_id = fields.String(allow_none=True, load_default=None)
    esa_code = fields.String(allow_none=True, load_default=None)
    province_code = fields.String(allow_none=True, load_default=None)


class EnvelopeSchema(Schema):
    """Readers ignore unknown envelope fields, so adding an optional one keeps compatibility."""

    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+\.[A-Za-z]+$"))
    event_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    producer = fields.String(required=True)
    aggregate_id = fields.String(required=True)
    aggregate_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    correlation_id = fields.String(required=True)
    actor = fields.String(required=True)
    org = fields.Nested(OrgSchema, required=True)
    payload = fields.Dict(required=True)
