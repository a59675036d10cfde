"""Fixtures of the security suite: every service app over the real local document store, tokens, and the
operations each app's OpenAPI document lists (so a new endpoint is covered without touching these tests)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient

from shared.auth import issue_token
from shared.settings import Settings

SERVICES = ("supervision", "training", "committee", "achievement", "monitoring")
WRITE_METHODS = ("post", "put", "patch")
BOOKKEEPING = {"rate_limits"}  # counters of requests, not data: a refused request may count


def rsa_pair() -> tuple[bytes, str]:
    """A private key (PEM) and its public key (PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


# made once per run: the configured RS key pair, and another pair nobody trusts
PRIVATE_KEY, PUBLIC_KEY = rsa_pair()
OTHER_PRIVATE_KEY, _ = rsa_pair()


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str  # with the path parameters filled in
    template: str
    public: bool
    query: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> OpenAPI schema
    body: dict[str, Any] | None = None  # the JSON request body's (resolved) schema, if any

    @property
    def id(self) -> str:
        return f"{self.service}:{self.method.upper()} {self.template}"


def operations(app: Flask, service: str) -> list[Operation]:
    doc = app.test_client().get("/openapi.json").get_json()
    schemas = doc.get("components", {}).get("schemas", {})
    found = []
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "$ref" in body:
                body = schemas[body["$ref"].rsplit("/", 1)[1]]
            query = {
                p["name"]: p.get("schema", {}) for p in op.get("parameters", []) if p.get("in") == "query"
            }
            found.append(
                Operation(
                    service=service,
                    method=method,
                    path=re.sub(r"\{[^}]+\}", "x1", template),
                    template=template,
                    public=op.get("security") == [],
                    query=query,
                    body=body,
                )
            )
    return found


def _bare_app(service: str) -> Flask:
    return importlib.import_module(f"services.{service}.app").create_app(Settings(jwt_public_key=PUBLIC_KEY))


# collected at import time, with default settings (no store is touched to read an OpenAPI document)
ALL_OPERATIONS = [op for service in SERVICES for op in operations(_bare_app(service), service)]
PROTECTED = [op for op in ALL_OPERATIONS if not op.public]
JSON_WRITES = [op for op in ALL_OPERATIONS if op.method in WRITE_METHODS and op.body is not None]
WITH_QUERY = [op for op in ALL_OPERATIONS if op.query and not op.public]


@pytest.fixture(scope="session")
def security_settings(settings: Settings) -> Settings:
    """The real store and broker, with an RS256 public key configured next to the HS256 secret."""
    # the rate limit is off here: this suite sends thousands of requests as one caller in a few seconds
    limits = {"rate_limit_per_minute": 0} if hasattr(settings, "rate_limit_per_minute") else {}
    return settings.with_overrides(jwt_public_key=PUBLIC_KEY, **limits)


@pytest.fixture(scope="session")
def apps(security_settings: Settings) -> dict[str, Flask]:
    made = {}
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.app").create_app(security_settings)
        app.config["TESTING"] = True
        made[service] = app
    return made


@pytest.fixture
def clients(apps: dict[str, Flask]) -> Iterator[dict[str, FlaskClient]]:
    yield {service: app.test_client() for service, app in apps.items()}


def bearer(
    settings: Settings, role: str = "admin", level: str = "national", code: str | None = None
) -> dict[str, str]:
    token = issue_token(settings, sub=f"sec-{role}", role=role, scope_level=level, scope_code=code)
    return {"Authorization": f"Bearer {token}"}


def stored_counts(app: Flask) -> dict[str, int]:
    """Documents per collection of the service's database (entities, outbox, audit, idempotency keys...)."""
    db = app.extensions["anp"].store.db
    names = set(db.list_collection_names()) - BOOKKEEPING
    return {name: db[name].count_documents({}) for name in sorted(names)}


def assert_error_shape(response: Any, status: int | None = None) -> dict[str, Any]:
    assert response.status_code != 500, response.get_data(as_text=True)[:500]
    if status is not None:
        assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert isinstance(body, dict), response.get_data()[:300]
    assert body["code"] == response.status_code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str)
    assert set(body) <= {"code", "status", "message", "errors"}
    return body
