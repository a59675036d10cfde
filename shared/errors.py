"""Errors raised by handlers, each mapped to one HTTP status and the one JSON error shape.

The shape is flask-smorest's: {"code": 409, "status": "Conflict", "message": "...", "errors": {...}}.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    """An invalid state change or a version mismatch."""

    status = 409


class Invalid(AppError):
    """Input that passed the schema but breaks a rule (for example, an unknown school)."""

    status = 422


class Unavailable(AppError):
    status = 503
