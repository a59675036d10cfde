"""Committee service. Its domain endpoints are not built yet; it already serves health, readiness and its API docs."""

from __future__ import annotations

from flask import Flask

from shared.settings import Settings
from shared.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    return create_service_app(
        service="committee",
        title="Committee service — คณะกรรมการเครือข่ายและสถานศึกษา",
        description="Community-engaged committees: meetings, resolutions and action items.",
        settings=settings or Settings.from_env(),
        blueprints=[],
    )
