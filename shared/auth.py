"""JWT authentication and the one object-level scope check every endpoint uses.

A token carries a role and an org scope: {"level": "school"|"cluster"|"esa"|"province"|"national", "code": ...}.
An object is inside the caller's scope when its org path has the caller's code at the caller's level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from shared.envelope import Org, utcnow
from shared.errors import Forbidden, Unauthorized
from shared.settings import Settings

SCOPE_FIELDS = {
    "school": "school_code",
    "cluster": "cluster_id",
    "esa": "esa_code",
    "province": "province_code",
}
SCOPE_LEVELS = (*SCOPE_FIELDS, "national")
PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)

ROLES = (
    "supervisor",  # ศึกษานิเทศก์, acts within one ESA area
    "esa_officer",  # ESA area staff, reads everything in the area
    "school_director",
    "teacher",
    "cluster_coordinator",
    "province_officer",
    "national_officer",
    "committee_member",
    "committee_secretary",
    "admin",
)


@dataclass(frozen=True)
class Principal:
    sub: str
    name: str
    role: str
    scope_level: str
    scope_code: str | None

    @property
    def actor(self) -> str:
        return self.sub

    def covers(self, org: Org) -> bool:
        if self.scope_level == "national":
            return True
        field = SCOPE_FIELDS[self.scope_level]
        return getattr(org, field) is not None and getattr(org, field) == self.scope_code

    def scope_filter(self, prefix: str = "org.") -> dict[str, Any]:
        """A MongoDB filter that limits a list to the caller's scope."""
        if self.scope_level == "national":
            return {}
        return {prefix + SCOPE_FIELDS[self.scope_level]: self.scope_code}


def authorize(principal: Principal, roles: Iterable[str], org: Org | None = None) -> None:
    """Allow the call only for one of `roles`, and only on an object inside the caller's scope."""
    if principal.role not in roles and principal.role != "admin":
        raise Forbidden(f"role {principal.role!r} may not do this")
    if org is not None and not principal.covers(org):
        raise Forbidden("this object is outside your organisation scope")


def decode_token(token: str, settings: Settings) -> Principal:
    header = _header(token)
    algorithm = header.get("alg")
    if algorithm not in settings.jwt_algorithms:
        raise Unauthorized("token algorithm is not accepted")
    keys = _verification_keys(algorithm, settings)
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.InvalidSignatureError:
            continue  # during a rotation the token may be signed with the other key
        except jwt.PyJWTError as err:
            raise Unauthorized(f"invalid token: {err}") from err
        return _principal(claims)
    raise Unauthorized("invalid token: Signature verification failed")


def issue_token(
    settings: Settings,
    *,
    sub: str,
    role: str,
    scope_level: str,
    scope_code: str | None,
    name: str = "",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    now = utcnow()
    claims = {
        "sub": sub,
        "name": name or sub,
        "role": role,
        "scope": {"level": scope_level, "code": scope_code},
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
    }
    _principal(claims)  # refuse to sign what we would refuse to accept
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def _header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as err:
        raise Unauthorized("malformed token") from err


def _verification_keys(algorithm: str, settings: Settings) -> list[str]:
    """The current key first, then the one being rotated out. HS and RS keys are never interchangeable: this
    blocks HS256-signed-with-the-public-key confusion."""
    if algorithm.startswith("HS"):
        return [k for k in (settings.jwt_secret, settings.jwt_previous_secret) if k]
    if algorithm.startswith("RS") and settings.jwt_public_key:
        return PEM_BLOCK.findall(settings.jwt_public_key)
    raise Unauthorized("token algorithm is not accepted")


def _principal(claims: dict[str, Any]) -> Principal:
    scope = claims.get("scope")
    role = claims.get("role")
    if role not in ROLES or not isinstance(scope, dict):
        raise Unauthorized("token lacks a known role and an org scope")
    level, code = scope.get("level"), scope.get("code")
    if level not in SCOPE_LEVELS or (level != "national" and not isinstance(code, str)):
        raise Unauthorized("token has an invalid org scope")
    return Principal(
        sub=str(claims["sub"]),
        name=str(claims.get("name") or claims["sub"]),
        role=role,
        scope_level=level,
        scope_code=code if level != "national" else None,
    )
