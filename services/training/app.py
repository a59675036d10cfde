"""Training service: hybrid, cluster-based teacher professional development (การพัฒนาครูแบบผสมผสาน)."""

from __future__ import annotations

from flask import Flask

from services.training import bootstrap
from services.training.api import PUBLIC_ENDPOINTS, blp
from shared.settings import Settings
from shared.web import create_service_app


def create_app(
    settings: Settings | None = None, repository_factory: bootstrap.RepositoryFactory | None = None
) -> Flask:
    """The WSGI app. No client is made here: the repository connects on first use, after gunicorn forks.

    `repository_factory` replaces the MongoDB repository (unit tests pass an in-memory fake).
    """
    app = create_service_app(
        service="training",
        title="Training service — การพัฒนาครูแบบผสมผสาน",
        description="Hybrid, cluster-based teacher professional development: programmes, onsite / online / "
        "hybrid sessions, enrolment with a waitlist, attendance per mode, completion and PD hours.",
        settings=settings or Settings.from_env(),
        blueprints=[blp],
        public_endpoints=PUBLIC_ENDPOINTS,
    )
    bootstrap.install(app, repository_factory)
    return app
