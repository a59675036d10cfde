"""Achievement service: national test results (O-NET, NT, RT) and school GPA, imported per school."""

from __future__ import annotations

from flask import Flask

from services.achievement import bootstrap
from services.achievement.api import blp
from shared.settings import Settings
from shared.web import create_service_app


def create_app(
    settings: Settings | None = None, repository_factory: bootstrap.RepositoryFactory | None = None
) -> Flask:
    """The WSGI app. No client is made here: the repository connects on first use, after gunicorn forks.

    `repository_factory` replaces the MongoDB repository (unit tests pass an in-memory fake).
    """
    app = create_service_app(
        service="achievement",
        title="Achievement service — ผลสัมฤทธิ์ทางการเรียน",
        description="Student achievement per school: O-NET (P6, M3, M6), NT (P3), RT (P1) and school GPA, "
        "imported from CSV or XLSX files and published as `achievement.events`.",
        settings=settings or Settings.from_env(),
        blueprints=[blp],
    )
    bootstrap.install(app, repository_factory)
    return app
