"""The office dashboard: a single-page app served by the monitoring service itself, with no CDN.

Pages, scripts, styles and the Thai font come from this package; front-end libraries from `node_modules/`, installed
by `npm ci` from the pinned `package-lock.json` beside this file. Only the files named in `VENDOR` are served.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, redirect, send_from_directory

from shared.web import resources

HERE = Path(__file__).parent
STATIC = HERE / "static"
NODE_MODULES = HERE / "node_modules"

# served name -> file in node_modules (package versions pinned in package-lock.json)
VENDOR = {
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "axe.min.js": "axe-core/axe.min.js",
    "thailand.svg": "@svg-maps/thailand/thailand.svg",
    **{
        f"sarabun-{subset}-{weight}-normal.woff2": f"@fontsource/sarabun/files/sarabun-{subset}-{weight}-normal.woff2"
        for subset in ("thai", "latin")
        for weight in (400, 700)
    },
}

# the app's own pages allow scripts from this origin only: no inline script, no eval
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
ONE_HOUR = 3600

blp = Blueprint("dashboard", __name__)
PUBLIC_ENDPOINTS = {f"dashboard.{name}" for name in ("home", "page", "asset", "vendor", "demo_users")}


@blp.get("/")
def home() -> Any:
    return redirect("/dashboard/", code=302)


@blp.get("/dashboard/")
@blp.get("/dashboard/<path:route>")
def page(route: str = "") -> Response:
    """Every app route answers with the app; it reads the route from the address itself (shareable URLs)."""
    response = send_from_directory(STATIC, "index.html", max_age=0)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-cache"
    return response


@blp.get("/dashboard/static/<path:filename>")
def asset(filename: str) -> Response:
    response = send_from_directory(STATIC, filename, max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # revalidated by ETag: a new release shows at once
    return response


@blp.get("/dashboard/vendor/<string:name>")
def vendor(name: str) -> Response:
    if name not in VENDOR:
        abort(404)
    path = NODE_MODULES / VENDOR[name]
    if not path.is_file():
        abort(503, description=f"front-end library {name} is not installed: run `npm ci` in {HERE.name}/")
    return send_from_directory(path.parent, path.name, max_age=ONE_HOUR)


@blp.get("/dashboard/demo-users")
def demo_users() -> Any:
    """Demo runs only: the users and tokens the run command wrote, for one-click sign-in; elsewhere none."""
    source = resources().settings.demo_tokens_file
    if not source or not Path(source).is_file():
        return {"users": []}
    lines = Path(source).read_text(encoding="utf-8").splitlines()
    return {"users": [json.loads(line) for line in lines if line.strip()]}
