"""Committee service: school boards and cluster network committees (คณะกรรมการสถานศึกษาและเครือข่าย)."""

from __future__ import annotations

from flask import Flask

from services.committee import bootstrap
from services.committee.api import blp
from shared.settings import Settings
from shared.web import create_service_app


def create_app(
    settings: Settings | None = None, repository_factory: bootstrap.RepositoryFactory | None = None
) -> Flask:
    """The WSGI app. No client is made here: the repository connects on first use, after gunicorn forks.

    `repository_factory` replaces the MongoDB repository (unit tests pass an in-memory fake).
    """
    app = create_service_app(
        service="committee",
        title="Committee service — คณะกรรมการเครือข่ายและสถานศึกษา",
        description="Community-engaged committees: school boards and network committees, their members, "
        "meetings with attendance and quorum, resolutions, and action items with progress notes.",
        settings=settings or Settings.from_env(),
        blueprints=[blp],
    )
    bootstrap.install(app, repository_factory)
    return app
