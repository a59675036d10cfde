"""Verification keys during a rotation: the current and the previous HS256 secret, and a bundle of RS256 public
keys, are each accepted; anything else is 401, and the old secret never signs."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import decode_token, issue_token
from shared.envelope import utcnow
from shared.errors import Unauthorized
from shared.settings import Settings

OLD, NEW = "old-secret-" + "o" * 32, "new-secret-" + "n" * 32


def claims(settings: Settings, **extra: object) -> dict[str, object]:
    now = utcnow()
    base = {
        "sub": "u1",
        "role": "teacher",
        "scope": {"level": "school", "code": "13010001"},
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return {**base, **extra}


def rsa_pair() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


def test_during_a_rotation_both_secrets_verify_and_only_the_new_one_signs() -> None:
    rotating = Settings(jwt_secret=NEW, jwt_previous_secret=OLD)
    old_token = jwt.encode(claims(rotating), OLD, algorithm="HS256")
    assert decode_token(old_token, rotating).sub == "u1"
    new_token = issue_token(rotating, sub="u2", role="teacher", scope_level="school", scope_code="13010001")
    assert decode_token(new_token, rotating).sub == "u2"
    with pytest.raises(Unauthorized):
        decode_token(new_token, Settings(jwt_secret=OLD))  # issued with the new secret, not the old
    with pytest.raises(Unauthorized):  # after the rotation the old secret is gone
        decode_token(old_token, Settings(jwt_secret=NEW))


def test_a_token_signed_with_neither_secret_is_refused() -> None:
    rotating = Settings(jwt_secret=NEW, jwt_previous_secret=OLD)
    forged = jwt.encode(claims(rotating), "another-secret-" + "x" * 32, algorithm="HS256")
    with pytest.raises(Unauthorized, match="Signature verification failed"):
        decode_token(forged, rotating)


def test_an_expired_token_is_refused_even_with_a_valid_previous_key() -> None:
    rotating = Settings(jwt_secret=NEW, jwt_previous_secret=OLD)
    expired = claims(rotating, exp=utcnow() - timedelta(minutes=1))
    with pytest.raises(Unauthorized, match="expired"):
        decode_token(jwt.encode(expired, OLD, algorithm="HS256"), rotating)


def test_a_bundle_of_public_keys_accepts_tokens_of_each_key_and_no_other() -> None:
    (old_key, old_pem), (new_key, new_pem), (other_key, _) = rsa_pair(), rsa_pair(), rsa_pair()
    bundle = Settings(jwt_public_key=f"{old_pem}\n{new_pem}")
    for key in (old_key, new_key):
        assert decode_token(jwt.encode(claims(bundle), key, algorithm="RS256"), bundle).sub == "u1"
    with pytest.raises(Unauthorized):
        decode_token(jwt.encode(claims(bundle), other_key, algorithm="RS256"), bundle)
