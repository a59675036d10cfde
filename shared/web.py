"""The application factory every service uses: OpenAPI and docs, auth, errors, limits, health and readiness.

Clients are created lazily on first use inside a worker, so gunicorn can fork safely.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable, Iterable
from functools import cached_property, wraps
from http import HTTPStatus
from typing import Any

import orjson
import swagger_ui_bundle
from flask import Flask, g, jsonify, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from pymongo import MongoClient
from pymongo.errors import ConnectionFailure, PyMongoError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared import idempotency, ratelimit
from shared.auth import Principal, decode_token
from shared.clients import mongo_client
from shared.envelope import utcnow
from shared.errors import AppError, Invalid, Unauthorized
from shared.service_layer import Context
from shared.settings import Settings
from shared.store import AUDIT, Store

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = {"health", "ready", "docs_static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui"}


class Resources:
    """Per-process clients, made on first use (after gunicorn forks)."""

    def __init__(self, service: str, settings: Settings) -> None:
        self.service = service
        self.settings = settings

    @cached_property
    def mongo(self) -> MongoClient:
        return mongo_client(self.settings)

    @cached_property
    def store(self) -> Store:
        return Store(self.mongo, self.settings.db_name(self.service))


def resources() -> Resources:
    from flask import current_app

    return current_app.extensions["anp"]


def principal() -> Principal:
    return g.principal


def audit_entry(action: str, target: str, before: Any = None, after: Any = None) -> dict[str, Any]:
    """Who did what, when (added on write), from where, with the object before and after."""
    who = principal()
    return {
        "actor": who.sub,
        "role": who.role,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "source": {
            "ip": request.remote_addr,
            "user_agent": request.headers.get("User-Agent", "")[:200],
            "request_id": g.get("request_id"),
        },
    }


class FastJSONProvider(DefaultJSONProvider):
    """Flask's JSON output (sorted keys; dates, decimals and dataclasses as Flask writes them) encoded by orjson,
    several times faster on large pages. UTF-8 throughout: Thai names read as Thai, not \\u escapes."""

    OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    OPTIONS |= orjson.OPT_PASSTHROUGH_DATACLASS

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default, option=self.OPTIONS).decode()


def create_service_app(
    *,
    service: str,
    title: str,
    settings: Settings,
    blueprints: list[Blueprint],
    description: str = "",
    public_endpoints: Iterable[str] = (),
) -> Flask:
    """`public_endpoints`: endpoint names (e.g. "training.CertificateVerification") answered without a token."""
    app = Flask(service)
    app.json = FastJSONProvider(app)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    app.extensions["anp"] = Resources(service, settings)
    api = Api(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _add_operational_routes(app, settings)
    _add_request_hooks(app, settings, PUBLIC_ENDPOINTS | set(public_endpoints))
    _add_error_handlers(app)
    return app


def _add_operational_routes(app: Flask, settings: Settings) -> None:
    @app.get("/health")
    def health() -> Any:
        return {"status": "alive"}

    @app.get("/ready")
    def ready() -> Any:
        checks = {"database": _mongo_reachable(), "broker": _broker_reachable(settings.kafka_bootstrap)}
        status = 200 if all(checks.values()) else 503
        return {"status": "ready" if status == 200 else "unavailable", "checks": checks}, status

    @app.get("/docs/static/<path:filename>")
    def docs_static(filename: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)


def _mongo_reachable() -> bool:
    try:
        resources().mongo.admin.command("ping")
        return True
    except PyMongoError:
        return False


def _broker_reachable(bootstrap: str) -> bool:
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
                return True
        except OSError:
            continue
    return False


# not counted by the rate limit: probes, the API document and its viewer, the dashboard's pages and files
RATE_LIMIT_EXEMPT = PUBLIC_ENDPOINTS | {
    "dashboard.home",
    "dashboard.page",
    "dashboard.asset",
    "dashboard.vendor",
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id"
CORS_EXPOSE = "ETag, Location, Retry-After, X-Request-Id, Idempotent-Replay"


def _add_request_hooks(app: Flask, settings: Settings, public: set[str]) -> None:
    @app.before_request
    def authenticate() -> Any:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or str(uuid.uuid4())
        # a declared length over the limit is refused before anything else; a chunked body is cut off as it is read
        if (request.content_length or 0) > settings.max_body_bytes:
            raise RequestEntityTooLarge()
        _refuse_a_long_chunked_body()
        denied: AppError | None = None
        # no endpoint: Flask answers 404 (or 405) itself, and an unknown path is no secret
        if not (request.endpoint is None or request.endpoint in public or request.method == "OPTIONS"):
            try:
                g.principal = _bearer_principal(settings)
            except Unauthorized as err:  # counted against the client's address first, then answered
                denied = err
        if (
            settings.rate_limit_per_minute > 0
            and request.method != "OPTIONS"
            and (request.endpoint not in RATE_LIMIT_EXEMPT)
        ):
            who = g.get("principal")
            retry_after = _count_request(settings, f"sub:{who.sub}" if who else f"ip:{request.remote_addr}")
            if retry_after:
                return _error(
                    429,
                    f"more than {settings.rate_limit_per_minute} requests a minute; retry later",
                    **{"Retry-After": str(retry_after)},
                )
        if denied is not None:
            raise denied
        _check_page_size(settings)
        return None

    @app.after_request
    def secure_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; frame-ancestors 'none'",
        )
        # sent always: browsers ignore it over plain HTTP, and behind a TLS-terminating proxy it is what we want
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # API answers are per caller: never stored; static files that set their own caching keep it
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Request-Id"] = g.get("request_id", "")
        _cors(response, settings)
        return response


_rate_indexed: set[str] = set()  # the databases whose rate-limit TTL index this process has made


def _count_request(settings: Settings, caller: str) -> int:
    """Count this request against the caller's limit: 0 when allowed, else the seconds to wait."""
    try:
        db = resources().store.db
        if db.name not in _rate_indexed:
            ratelimit.ensure_index(db)
            _rate_indexed.add(db.name)
        return ratelimit.hit(db, caller, settings.rate_limit_per_minute)
    except PyMongoError as err:  # the store being down must not turn the limit into an outage
        log.warning("rate limit not checked: %s", err)
        return 0


def _bearer_principal(settings: Settings) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("a bearer token is required")
    return decode_token(token.strip(), settings)


def _refuse_a_long_chunked_body() -> None:
    """Werkzeug stops reading a body without Content-Length at MAX_CONTENT_LENGTH and hands on what it read, cut
    short: read it here (kept for the view) and refuse it when the client sent more."""
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        request.get_data(cache=True)
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()


def _check_page_size(settings: Settings) -> None:
    """Every list takes `page_size`; above ANP_MAX_PAGE_SIZE it is refused (422) whatever the list's schema says."""
    value = request.args.get("page_size", "")
    digits = value.strip()
    # a digit string too long to be a number Python reads (or a page size) is refused without reading it
    if digits.isdigit() and (len(digits) > 9 or int(digits) > settings.max_page_size):
        raise Invalid(
            "page_size is too large",
            {"query": {"page_size": [f"Must be between 1 and {settings.max_page_size}."]}},
        )


def _cors(response: Any, settings: Settings) -> None:
    """Cross-origin access for the configured origins only (ANP_CORS_ORIGINS); any other origin gets no ACAO."""
    if not settings.cors_origins:
        return
    response.vary.add("Origin")
    origin = request.headers.get("Origin", "")
    if origin not in settings.cors_origins:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"


def _audit_denial(status: int, reason: str) -> None:
    """A refused call leaves an audit entry, like a write does: who (if known), what, from where; never the token."""
    who = g.get("principal")
    entry = {
        "actor": who.sub if who else None,
        "role": who.role if who else None,
        "action": "denied",
        "target": f"{request.method} {request.path}",
        "status": status,
        "reason": reason[:200],
        "source": {
            "ip": request.remote_addr,
            "user_agent": request.headers.get("User-Agent", "")[:200],
            "request_id": g.get("request_id"),
        },
        "at": utcnow(),
    }
    try:
        resources().store.db[AUDIT].insert_one(entry)
    except PyMongoError as err:
        log.warning("denial not audited: %s", err)


def _error(status: int, message: str, errors: Any = None, **headers: str) -> Any:
    body: dict[str, Any] = {"code": status, "status": _status_text(status), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers)
    return response


def _status_text(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def _add_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def app_error(err: AppError) -> Any:
        if err.status == 403 or (err.status in (401, 404) and request.method in MUTATING):
            _audit_denial(err.status, err.message)
        headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else {}
        return _error(err.status, err.message, err.errors, **headers)

    @app.errorhandler(ConnectionFailure)
    def store_down(err: ConnectionFailure) -> Any:
        log.warning("document store unreachable: %s", err)
        return _error(
            503,
            "the document store is unreachable; nothing was changed, please retry",
            **{"Retry-After": "5"},
        )

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Any:
        data = getattr(err, "data", {}) or {}
        # webargs puts the field messages of a 422 under "messages"
        errors = data.get("errors") or data.get("messages")
        return _error(err.code or 500, data.get("message") or err.description or "", errors)

    @app.errorhandler(RecursionError)
    @app.errorhandler(ValueError)
    def unparsable_json(err: Exception) -> Any:
        # the JSON parser gives up on a body nested ~1000 levels deep or a number of over 4300 digits
        if _raised_by_json_parser(err):
            return _error(422, "the JSON body is nested too deeply or holds a number too long")
        return unexpected(err)

    @app.errorhandler(Exception)
    def unexpected(err: Exception) -> Any:
        log.exception("unhandled error")
        return _error(500, "internal error; it has been logged")


def _raised_by_json_parser(err: BaseException) -> bool:
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.endswith(("json/decoder.py", "json/__init__.py"))


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Replay the stored response for a repeated `Idempotency-Key`; put it above the schema decorators."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return view(*args, **kwargs)
        db = resources().store.db
        actor = principal().sub
        stored = idempotency.claim(db, actor, key, request.method, request.path, request.get_data())
        if stored is not None:
            response = jsonify(stored["body"])
            response.status_code = stored["status"]
            response.headers["Idempotent-Replay"] = "true"
            return response
        try:
            response = view(*args, **kwargs)
        except BaseException:
            idempotency.release(db, actor, key)
            raise
        idempotency.complete(db, actor, key, response.status_code, response.get_json())
        return response

    return wrapper


def documented_errors(blp: Blueprint, *codes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document the shared error responses (one JSON shape) a view of `blp` can answer with."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        for code in codes:
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorate


def request_context() -> Context:
    """The service-layer context of this request: the caller, its audit entries, its id for correlation."""
    return Context(principal(), audit_entry, g.get("request_id"))
