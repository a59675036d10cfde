"""Every kind of bad token is 401 on a protected endpoint of every service: the one error shape, a
`WWW-Authenticate: Bearer` challenge, and neither the token nor a key echoed back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from shared.envelope import utcnow
from shared.settings import Settings
from tests.security.conftest import (
    OTHER_PRIVATE_KEY,
    PRIVATE_KEY,
    PROTECTED,
    PUBLIC_KEY,
    SERVICES,
    Operation,
    assert_error_shape,
    bearer,
)

# one protected read per service (a list, no path parameter), plus every protected operation for the basics
PROBES = {
    "supervision": "/api/v1/visits",
    "training": "/api/v1/programmes",
    "committee": "/api/v1/committees",
    "achievement": "/api/v1/imports",
    "monitoring": "/api/v1/me",
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":"), default=str).encode())


def claims(settings: Settings, **changes: Any) -> dict[str, Any]:
    now = utcnow()
    base: dict[str, Any] = {
        "sub": "attacker",
        "name": "attacker",
        "role": "admin",
        "scope": {"level": "national", "code": None},
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not DROP}


DROP = object()
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is")


def hs(settings: Settings, **changes: Any) -> str:
    return jwt.encode(claims(settings, **changes), settings.jwt_secret, algorithm="HS256")


def unsigned(settings: Settings, alg: Any) -> str:
    header = {"typ": "JWT"} if alg is DROP else {"alg": alg, "typ": "JWT"}
    return f"{segment(header)}.{segment(claims(settings))}."


def hs_with_public_key(settings: Settings) -> str:
    """HS256 whose HMAC key is the configured RS public key PEM (PyJWT refuses to make one: done by hand)."""
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims(settings))}"
    mac = hmac.new(PUBLIC_KEY.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def tampered_scope(settings: Settings) -> str:
    """A genuine teacher token whose payload is edited after signing to national admin."""
    real = hs(settings, role="teacher", scope={"level": "school", "code": "13010001"})
    header, _, signature = real.split(".")
    return f"{header}.{segment(claims(settings))}.{signature}"


def rs(settings: Settings, key: bytes, **changes: Any) -> str:
    return jwt.encode(claims(settings, **changes), key, algorithm="RS256")


def past(minutes: int) -> int:
    return int((utcnow() - timedelta(minutes=minutes)).timestamp())


def future(minutes: int) -> int:
    return int((utcnow() + timedelta(minutes=minutes)).timestamp())


ATTACKS: dict[str, Callable[[Settings], str]] = {
    "alg-none": lambda s: unsigned(s, "none"),
    "alg-None": lambda s: unsigned(s, "None"),
    "alg-NONE": lambda s: unsigned(s, "NONE"),
    "alg-empty": lambda s: unsigned(s, ""),
    "alg-missing": lambda s: unsigned(s, DROP),
    "alg-none-with-signature": lambda s: unsigned(s, "none") + b64(b"sig"),
    "alg-HS512-not-allowed": lambda s: jwt.encode(claims(s), s.jwt_secret, algorithm="HS512"),
    "wrong-hs-key": lambda s: jwt.encode(claims(s), "another-secret-" + "x" * 32, algorithm="HS256"),
    "hs-rs-confusion": hs_with_public_key,
    "rs-other-key-pair": lambda s: rs(s, OTHER_PRIVATE_KEY),
    "rs-other-key-pair-with-kid": lambda s: jwt.encode(
        claims(s), OTHER_PRIVATE_KEY, algorithm="RS256", headers={"kid": "current", "jku": "https://evil"}
    ),
    "expired": lambda s: hs(s, iat=past(30), nbf=past(30), exp=past(5)),
    "not-yet-valid": lambda s: hs(s, nbf=future(5), exp=future(30)),
    "wrong-aud": lambda s: hs(s, aud="another-platform"),
    "aud-list-without-ours": lambda s: hs(s, aud=["another-platform"]),
    "wrong-iss": lambda s: hs(s, iss="https://evil.example"),
    "missing-exp": lambda s: hs(s, exp=DROP),
    "missing-iat": lambda s: hs(s, iat=DROP),
    "missing-iss": lambda s: hs(s, iss=DROP),
    "missing-aud": lambda s: hs(s, aud=DROP),
    "missing-sub": lambda s: hs(s, sub=DROP),
    "missing-role": lambda s: hs(s, role=DROP),
    "missing-scope": lambda s: hs(s, scope=DROP),
    "unknown-role": lambda s: hs(s, role="superuser"),
    "scope-not-an-object": lambda s: hs(s, scope="national"),
    "scope-unknown-level": lambda s: hs(s, scope={"level": "galaxy", "code": "x"}),
    "scope-without-code": lambda s: hs(s, role="teacher", scope={"level": "school"}),
    "exp-not-a-number": lambda s: hs(s, exp="tomorrow"),
    "tampered-scope": tampered_scope,
    "tampered-signature": lambda s: hs(s)[:-4] + ("AAAA" if not hs(s).endswith("AAAA") else "BBBB"),
    "rs-valid-key-but-expired": lambda s: rs(s, PRIVATE_KEY, exp=past(1), iat=past(20), nbf=past(20)),
    "garbage": lambda s: "garbage",
    "three-garbage-segments": lambda s: "a.b.c",
    "non-json-segments": lambda s: f"{b64(b'not json')}.{b64(b'nor this')}.{b64(b'x')}",
    "header-is-a-list": lambda s: f"{b64(b'[]')}.{segment(claims(s))}.",
    "two-segments": lambda s: ".".join(hs(s).split(".")[:2]),
    "four-segments": lambda s: hs(s) + ".extra",
    "huge": lambda s: "a" * 6000,
}


def assert_refused(response: Any, token: str, settings: Settings) -> None:
    assert_error_shape(response, 401)
    assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    text = response.get_data(as_text=True)
    for secret in (token, settings.jwt_secret, PUBLIC_KEY, *token.split(".")):
        if len(secret) >= 8:
            assert secret not in text


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("attack", ATTACKS)
def test_a_bad_token_is_401_on_every_service(
    clients: dict[str, FlaskClient], security_settings: Settings, service: str, attack: str
) -> None:
    token = ATTACKS[attack](security_settings)
    response = clients[service].get(PROBES[service], headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, token, security_settings)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc.def.ghi", "bearer", "Bearer  \t "],
)
def test_a_missing_or_malformed_authorization_header_is_401(
    clients: dict[str, FlaskClient], security_settings: Settings, service: str, header: str
) -> None:
    headers = {"Authorization": header} if header else {}
    response = clients[service].get(PROBES[service], headers=headers)
    assert_refused(response, header, security_settings)


@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: op.id)
def test_every_protected_operation_refuses_no_token_and_alg_none(
    clients: dict[str, FlaskClient], security_settings: Settings, op: Operation
) -> None:
    client = clients[op.service]
    for token in ("", unsigned(security_settings, "none"), hs_with_public_key(security_settings)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.open(
            op.path, method=op.method.upper(), headers=headers, json={} if op.body else None
        )
        assert_refused(response, token, security_settings)


@pytest.mark.parametrize("service", SERVICES)
def test_the_probes_accept_a_good_token(
    clients: dict[str, FlaskClient], security_settings: Settings, service: str
) -> None:
    """The controls: the same request with a genuine HS256 or RS256 token is not refused."""
    for headers in (
        bearer(security_settings),
        {"Authorization": f"Bearer {rs(security_settings, PRIVATE_KEY)}"},
    ):
        response = clients[service].get(PROBES[service], headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
