"""Security headers on every answer of every route of every service, errors included; CORS for listed origins only."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from services.achievement.app import create_app as achievement_app
from services.committee.app import create_app as committee_app
from services.monitoring.app import create_app as monitoring_app
from services.supervision.app import create_app as supervision_app
from services.training.app import create_app as training_app
from shared.auth import issue_token
from shared.settings import Settings

APPS: dict[str, Callable[[Settings], Flask]] = {
    "supervision": supervision_app,
    "training": training_app,
    "committee": committee_app,
    "achievement": achievement_app,
    "monitoring": monitoring_app,
}
ALLOWED = "https://dashboard.example.org"
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy")
STATIC = {"docs_static", "dashboard.asset", "dashboard.vendor", "dashboard.page", "dashboard.home"}


@pytest.fixture(scope="module")
def app_settings(settings: Settings) -> Settings:
    # no rate limit here: this module sends hundreds of requests from one address
    return settings.with_overrides(
        db_prefix=f"{settings.db_prefix}_hdr", rate_limit_per_minute=0, cors_origins=(ALLOWED,)
    )


@pytest.fixture(scope="module", params=sorted(APPS))
def client(request: pytest.FixtureRequest, app_settings: Settings) -> Iterator[FlaskClient]:
    with APPS[request.param](app_settings).test_client() as client:
        yield client


def admin(settings: Settings) -> dict[str, str]:
    token = issue_token(settings, sub="hdr-admin", role="admin", scope_level="national", scope_code=None)
    return {"Authorization": f"Bearer {token}"}


def assert_secure(response, what: str) -> None:  # type: ignore[no-untyped-def]
    for name in SECURITY_HEADERS:
        assert response.headers.get(name), f"{what}: no {name}"
    assert response.headers["X-Content-Type-Options"] == "nosniff", what
    assert response.headers["X-Frame-Options"] == "DENY", what
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], what
    assert response.headers["Strict-Transport-Security"].startswith("max-age="), what
    assert response.headers.get("X-Request-Id"), what


def sample_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "x1", rule)


def test_every_route_answers_with_the_security_headers(client: FlaskClient, app_settings: Settings) -> None:
    app = client.application
    seen = 0
    for rule in app.url_map.iter_rules():
        path = sample_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for headers in ({}, admin(app_settings)):
                response = client.open(
                    path, method=method, headers=headers, json={} if method != "GET" else None
                )
                what = f"{method} {path} ({'token' if headers else 'no token'}) -> {response.status_code}"
                assert_secure(response, what)
                if rule.endpoint not in STATIC:
                    assert response.headers.get("Cache-Control") == "no-store", what
                seen += 1
    assert seen > 10


def test_error_answers_carry_the_headers_too(client: FlaskClient, app_settings: Settings) -> None:
    token = admin(app_settings)
    list_path = next(
        r.rule
        for r in client.application.url_map.iter_rules()
        if "GET" in r.methods and "<" not in r.rule and r.rule.startswith("/api/")
    )
    post_path = next(
        (
            r.rule
            for r in client.application.url_map.iter_rules()
            if "POST" in r.methods and r.rule.startswith("/api/")
        ),
        list_path,  # monitoring takes no writes: a declared length over the limit is refused before routing matters
    )
    cases = {
        404: client.get("/no/such/path"),
        405: client.delete("/health"),
        401: client.get(list_path),
        422: client.get(list_path, query_string={"page_size": app_settings.max_page_size + 1}, headers=token),
        413: client.post(
            sample_path(post_path),
            data=b"x" * (app_settings.max_body_bytes + 1),
            headers={**token, "Content-Type": "application/json"},
        ),
    }
    for status, response in cases.items():
        assert response.status_code == status, (status, response.get_json())
        assert_secure(response, str(status))
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_json()
        assert body["code"] == status and body["status"] and "message" in body


def test_cors_answers_only_the_configured_origins(client: FlaskClient, app_settings: Settings) -> None:
    preflight = {
        "Origin": ALLOWED,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Idempotency-Key, If-Match, Content-Type",
    }
    path = next(r.rule for r in client.application.url_map.iter_rules() if r.rule.startswith("/api/v1/"))
    path = sample_path(path)
    response = client.options(path, headers=preflight)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response.headers["Vary"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed_headers = response.headers["Access-Control-Allow-Headers"].lower()
    for name in ("authorization", "idempotency-key", "if-match"):
        assert name in allowed_headers
    got = client.get("/health", headers={"Origin": ALLOWED})
    assert got.headers["Access-Control-Allow-Origin"] == ALLOWED and "Origin" in got.headers["Vary"]
    for origin in ("https://evil.example.com", "null", ALLOWED + ".evil.com"):
        other = client.options(path, headers={**preflight, "Origin": origin})
        assert "Access-Control-Allow-Origin" not in other.headers, origin
        assert "Access-Control-Allow-Origin" not in client.get("/health", headers={"Origin": origin}).headers


def test_no_origin_is_allowed_by_default(app_settings: Settings) -> None:
    app = supervision_app(app_settings.with_overrides(cors_origins=()))
    with app.test_client() as client:
        response = client.get("/health", headers={"Origin": ALLOWED})
        assert "Access-Control-Allow-Origin" not in response.headers
        assert (
            "Access-Control-Allow-Origin"
            not in client.options("/api/v1/visits", headers={"Origin": ALLOWED}).headers
        )
