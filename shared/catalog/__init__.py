"""The one catalog of integration events: payload schemas per (type, version) and upcasters.

The contracts live here, in `shared/`, rather than in each producer: the monitoring projector validates every
event it reads, and services never import each other. A producer registers nothing at run time; importing
this package loads every contract module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from marshmallow import Schema, ValidationError

from shared.envelope import EnvelopeSchema

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class InvalidEvent(Exception):
    """An event that cannot be read: bad JSON, bad envelope, unknown type or a payload that fails its schema."""

    def __init__(self, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class Catalog:
    def __init__(self) -> None:
        self._schemas: dict[tuple[str, int], Schema] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._envelope = EnvelopeSchema()

    def register(self, event_type: str, version: int, schema: type[Schema]) -> None:
        self._schemas[(event_type, version)] = schema()

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning a `from_version` payload into a `from_version + 1` payload."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def latest_version(self, event_type: str) -> int:
        versions = [v for (t, v) in self._schemas if t == event_type]
        if not versions:
            raise InvalidEvent(f"unknown event type {event_type!r}")
        return max(versions)

    def event_types(self) -> list[tuple[str, int]]:
        return sorted(self._schemas)

    def validate_payload(self, event_type: str, version: int, payload: Any) -> dict[str, Any]:
        """Check a payload against its contract and return it as JSON-native data (dates stay ISO strings,
        so readers can store it in MongoDB as it is)."""
        schema = self._schemas.get((event_type, version))
        if schema is None:
            raise InvalidEvent(f"unknown event {event_type} v{version}")
        if not isinstance(payload, dict):
            raise InvalidEvent(f"{event_type} v{version} payload is not an object")
        errors = schema.validate(payload)
        if errors:
            raise InvalidEvent(f"{event_type} v{version} payload is invalid", errors)
        return payload

    def check(self, event: dict[str, Any]) -> None:
        """Refuse an outgoing event that breaks its contract (before it is stored in an outbox)."""
        self.validate_payload(event["event_type"], event["event_version"], _jsonable(event["payload"]))

    @staticmethod
    def serialize(event: dict[str, Any]) -> bytes:
        return json.dumps(event, default=_json_default, ensure_ascii=False, separators=(",", ":")).encode()

    def decode(self, raw: bytes) -> dict[str, Any]:
        """Parse, validate and upcast an incoming event to the latest version of its type."""
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidEvent("not JSON") from err
        if not isinstance(data, dict):
            raise InvalidEvent("not a JSON object")
        try:
            event = self._envelope.load(data)
        except ValidationError as err:
            raise InvalidEvent("invalid envelope", err.messages) from err
        event["event_id"] = str(event["event_id"])
        event_type, version = event["event_type"], event["event_version"]
        payload = self.validate_payload(event_type, version, event["payload"])
        latest = self.latest_version(event_type)
        while version < latest:
            upcast = self._upcasters.get((event_type, version))
            if upcast is None:
                raise InvalidEvent(f"no upcaster for {event_type} v{version}")
            version += 1
            payload = self.validate_payload(event_type, version, _jsonable(upcast(payload)))
        event["event_version"], event["payload"] = version, payload
        return event


def _json_default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, default=_json_default))


catalog = Catalog()

# Importing the contract modules registers them (they only call catalog.register).
from shared.catalog import achievement, committee, directory, monitoring, supervision, training  # noqa: E402, F401
