"""Mass assignment and hostile values: every JSON write the OpenAPI documents lists, and every query string,
is answered 4xx (422 for a field it refuses, 413 for a body too big) in the one error shape, never 500, and
nothing is written: each collection of the service's database (entities, outbox, audit, idempotency keys)
counts the same before and after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.settings import Settings
from tests.security.conftest import (
    ALL_OPERATIONS,
    JSON_WRITES,
    WITH_QUERY,
    Operation,
    assert_error_shape,
    bearer,
    stored_counts,
)

# fields the server derives (org path, ids, actor, version, lifecycle status): never accepted from a body
SERVER_OWNED: dict[str, Any] = {
    "org": {"school_code": "13010001", "esa_code": "13P1", "province_code": "13", "cluster_id": "13P1-C01"},
    "esa_code": "13P1",
    "province_code": "13",
    "cluster_id": "13P1-C01",
    "school_code": "13010001",
    "role": "admin",
    "id": "chosen-id",
    "_id": "chosen-id",
    "created_by": "someone-else",
    "recorded_by": "someone-else",
    "supervisor_id": "someone-else",
    "actor": "someone-else",
    "version": 99,
    "status": "completed",
    "period": {"academic_year": 2569, "semester": 2},
    "created_at": "2020-01-01T00:00:00Z",
}
# writes without a JSON body that take query arguments (the CSV/XLSX import and its file name)
OTHER_WRITES = [
    op
    for op in ALL_OPERATIONS
    if op.method in ("post", "put", "patch") and op.body is None and op.query and not op.public
]


@pytest.fixture(scope="module")
def admin(security_settings: Settings) -> dict[str, str]:
    return bearer(security_settings)


@pytest.fixture
def unchanged(apps: dict[str, Flask], request: pytest.FixtureRequest) -> Iterator[None]:
    """The database of the operation's service counts the same documents after the test as before it (an
    empty collection made by a first request's index set-up is no write)."""
    app = apps[request.node.callspec.params["op"].service]
    before = {name: n for name, n in stored_counts(app).items() if n}
    yield
    assert {name: n for name, n in stored_counts(app).items() if n} == before


def send(client: FlaskClient, op: Operation, headers: dict[str, str], **kwargs: Any) -> Any:
    return client.open(op.path, method=op.method.upper(), headers=headers, **kwargs)


def json_errors(body: dict[str, Any]) -> dict[str, Any]:
    errors = body.get("errors") or {}
    return errors.get("json", errors)


def props(op: Operation) -> dict[str, Any]:
    return (op.body or {}).get("properties", {})


def first_of_type(op: Operation, kind: str) -> str | None:
    return next((name for name, s in props(op).items() if s.get("type") == kind), None)


# --- mass assignment -------------------------------------------------------------------------------------


MASS = [
    pytest.param(op, name, id=f"{op.id}+{name}")
    for op in JSON_WRITES
    for name in SERVER_OWNED
    if name not in props(op)  # a declared input (the target school of a visit, a member's committee role)
]


@pytest.mark.parametrize(("op", "name"), MASS)
def test_a_server_owned_field_in_a_body_is_422_and_nothing_is_written(
    clients: dict[str, FlaskClient], admin: dict[str, str], unchanged: None, op: Operation, name: str
) -> None:
    response = send(clients[op.service], op, admin, json={name: SERVER_OWNED[name]})
    body = assert_error_shape(response, 422)
    assert name in json_errors(body), body


@pytest.mark.parametrize("op", OTHER_WRITES, ids=lambda op: op.id)
def test_a_server_owned_field_in_the_query_of_an_upload_is_422_and_nothing_is_written(
    clients: dict[str, FlaskClient], admin: dict[str, str], unchanged: None, op: Operation
) -> None:
    for name in ("org", "esa_code", "status", "id", "created_by", "version"):
        if name in op.query:
            continue
        response = send(
            clients[op.service],
            op,
            admin,
            query_string={name: "x"},
            data=b"a,b\n1,2\n",
            content_type="text/csv",
        )
        assert_error_shape(response, 422)


# --- operator injection, dotted keys ---------------------------------------------------------------------


def hostile_bodies(op: Operation) -> Iterator[tuple[str, Any]]:
    yield "dollar-key", {"$where": "sleep(1000)"}
    yield "dollar-set", {"$set": {"status": "completed"}}
    yield "dotted-key", {"org.esa_code": "13P1"}
    yield "nul-key", {"a\x00b": 1}
    text = first_of_type(op, "string")
    if text:
        yield "dollar-operator-value", {text: {"$gt": ""}}
        yield "dollar-string-value", {text: "$where"}
        yield "nested-dollar-key", {text: [{"$ne": None}]}
    array = first_of_type(op, "array")
    if array:
        yield "dollar-in-array", {array: [{"$gt": ""}]}
        yield "dollar-string-in-array", {array: ["$ne"]}
    obj = first_of_type(op, "object")
    if obj:
        yield "dollar-key-in-object", {obj: {"$gt": 1}}
        yield "dotted-key-in-object", {obj: {"a.b": 1}}


INJECTIONS = [
    pytest.param(op, body, id=f"{op.id}+{kind}") for op in JSON_WRITES for kind, body in hostile_bodies(op)
]


@pytest.mark.parametrize(("op", "body"), INJECTIONS)
def test_operator_injection_in_a_body_is_422_and_nothing_is_written(
    clients: dict[str, FlaskClient], admin: dict[str, str], unchanged: None, op: Operation, body: Any
) -> None:
    response = send(clients[op.service], op, admin, json=body)
    assert_error_shape(response, 422)


def hostile_queries(op: Operation) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    yield "dollar-key", [("$where", "1")]
    yield "bracket-operator", [(f"{next(iter(op.query))}[$gt]", "")]
    yield "dotted-key", [("org.esa_code", "13P1")]
    for name, schema in op.query.items():
        if schema.get("type") == "string" and not schema.get("format"):
            yield f"dollar-value-{name}", [(name, "$gt")]
        if schema.get("type") == "integer":
            yield f"huge-int-{name}", [(name, str(10**30))]
            yield f"overflow-float-{name}", [(name, "1e309")]
            yield f"nan-{name}", [(name, "nan")]


QUERY_INJECTIONS = [
    pytest.param(op, query, id=f"{op.id}+{kind}") for op in WITH_QUERY for kind, query in hostile_queries(op)
]


@pytest.mark.parametrize(("op", "query"), QUERY_INJECTIONS)
def test_operator_injection_and_huge_numbers_in_a_query_string_are_422(
    clients: dict[str, FlaskClient], admin: dict[str, str], unchanged: None, op: Operation, query: Any
) -> None:
    kwargs: dict[str, Any] = {"query_string": query}
    if op.method != "get":
        kwargs.update(data=b"a,b\n1,2\n", content_type="text/csv")
    response = send(clients[op.service], op, admin, **kwargs)
    assert_error_shape(response, 422)


# --- huge numbers ----------------------------------------------------------------------------------------


def integer_fields(op: Operation) -> list[str]:
    return [name for name, s in props(op).items() if s.get("type") == "integer"]


NUMBERS = [
    pytest.param(op, name, raw, id=f"{op.id}+{name}={raw}")
    for op in JSON_WRITES
    for name in integer_fields(op)
    for raw in ("1e309", str(10**30), str(-(10**30)), "NaN")
]


@pytest.mark.parametrize(("op", "name", "raw"), NUMBERS)
def test_a_huge_number_in_an_integer_field_is_refused_by_name(
    clients: dict[str, FlaskClient],
    admin: dict[str, str],
    unchanged: None,
    op: Operation,
    name: str,
    raw: str,
) -> None:
    data = f'{{"{name}": {raw}}}'.encode()
    response = send(clients[op.service], op, admin, data=data, content_type="application/json")
    body = assert_error_shape(response)
    assert 400 <= response.status_code < 500
    if response.status_code == 422:
        assert name in json_errors(body), body


@pytest.mark.parametrize("op", JSON_WRITES, ids=lambda op: op.id)
def test_huge_numbers_anywhere_in_a_body_are_never_a_500(
    clients: dict[str, FlaskClient], admin: dict[str, str], unchanged: None, op: Operation
) -> None:
    for raw in ("1e309", "-1e309", "NaN", str(10**30), str(10**4000), "9" * 5000):
        for template in ('{{"x": {0}}}', "{0}", "[{0}]"):
            data = template.format(raw).encode()
            response = send(clients[op.service], op, admin, data=data, content_type="application/json")
            assert_error_shape(response)
            assert 400 <= response.status_code < 500


# --- deep nesting ----------------------------------------------------------------------------------------


def nested(depth: int, kind: str) -> bytes:
    if kind == "dict":
        return ('{"a":' * depth + "1" + "}" * depth).encode()
    return ("[" * depth + "]" * depth).encode()


@pytest.mark.parametrize("op", JSON_WRITES, ids=lambda op: op.id)
@pytest.mark.parametrize("depth", [1000, 50_000])
@pytest.mark.parametrize("kind", ["dict", "list"])
def test_a_deeply_nested_body_is_422_or_413(
    clients: dict[str, FlaskClient],
    admin: dict[str, str],
    unchanged: None,
    op: Operation,
    depth: int,
    kind: str,
) -> None:
    data = nested(depth, kind)
    text = first_of_type(op, "string")
    if text and kind == "dict":  # the nesting under a real field, too
        data = f'{{"{text}": '.encode() + data + b"}"
    response = send(clients[op.service], op, admin, data=data, content_type="application/json")
    assert_error_shape(response)
    assert response.status_code in (400, 413, 422)


# --- invalid unicode -------------------------------------------------------------------------------------


def unicode_bodies(op: Operation) -> Iterator[tuple[str, bytes]]:
    text = first_of_type(op, "string") or "x"
    yield "lone-surrogate-value", f'{{"{text}": "\\ud800"}}'.encode()
    yield "lone-low-surrogate-value", f'{{"{text}": "ab\\udfffcd"}}'.encode()
    yield "lone-surrogate-key", b'{"\\ud800": 1}'
    yield "lone-surrogate-nested", f'{{"{text}": ["\\udc00"]}}'.encode()
    yield "invalid-utf8-value", f'{{"{text}": "'.encode() + b"\xff\xfe\xc3\x28" + b'"}'
    yield "invalid-utf8-key", b'{"\xc3\x28": 1}'
    yield "overlong-utf8", f'{{"{text}": "'.encode() + b"\xc0\xaf" + b'"}'
    yield "utf16-body", json.dumps({text: "x"}).encode("utf-16")
    yield "nul-in-value", f'{{"{text}": "a\\u0000b"}}'.encode()


UNICODE = [
    pytest.param(op, data, id=f"{op.id}+{kind}") for op in JSON_WRITES for kind, data in unicode_bodies(op)
]


@pytest.mark.parametrize(("op", "data"), UNICODE)
def test_invalid_unicode_in_a_body_is_4xx(
    clients: dict[str, FlaskClient], admin: dict[str, str], unchanged: None, op: Operation, data: bytes
) -> None:
    response = send(clients[op.service], op, admin, data=data, content_type="application/json")
    assert_error_shape(response)
    assert 400 <= response.status_code < 500
