"""Supervision service: collaborative supervision of schools by their ESA area (การนิเทศแบบร่วมมือ)."""

from __future__ import annotations

from flask import Flask

from services.supervision import bootstrap
from services.supervision.api import blp
from shared.settings import Settings
from shared.web import create_service_app


def create_app(
    settings: Settings | None = None, repository_factory: bootstrap.RepositoryFactory | None = None
) -> Flask:
    """The WSGI app. No client is made here: the repository connects on first use, after gunicorn forks.

    `repository_factory` replaces the MongoDB repository (unit tests pass an in-memory fake).
    """
    app = create_service_app(
        service="supervision",
        title="Supervision service — การนิเทศแบบร่วมมือ",
        description="Supervision plans, classroom-observation visits with rubric scores, coaching and "
        "mentoring, PLC sessions across a cluster's schools, findings and follow-ups.",
        settings=settings or Settings.from_env(),
        blueprints=[blp],
    )
    bootstrap.install(app, repository_factory)
    return app
