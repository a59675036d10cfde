"""Monitoring service: live performance views at school, cluster, district, province and national level."""

from __future__ import annotations

from flask import Flask

from services.monitoring import (
    api_alerts,
    api_export,
    api_indicators,
    api_live,
    api_public,
    api_what_works,
    dashboard,
)
from services.monitoring.api import FIGURES_CACHE, blp
from services.monitoring.figures_cache import FiguresCache
from shared.settings import Settings
from shared.web import create_service_app


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = create_service_app(
        service="monitoring",
        title="Monitoring service — ระบบติดตามผลการดำเนินงาน",
        description="Live views of the academic networks, seconds after the fact.",
        settings=settings,
        blueprints=[
            blp,
            api_what_works.blp,
            api_indicators.blp,
            api_export.blp,
            api_alerts.blp,
            api_live.blp,
            api_public.blp,
        ],
        public_endpoints=dashboard.PUBLIC_ENDPOINTS | api_public.PUBLIC_ENDPOINTS,
    )
    app.register_blueprint(dashboard.blp)  # pages and assets: not part of the API document
    app.extensions[FIGURES_CACHE] = FiguresCache(settings.projector_group)
    return app
