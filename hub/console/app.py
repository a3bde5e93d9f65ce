"""The console's ASGI app (Starlette).

Starlette rather than Flask: it is what the hub's stack already leans towards (uvicorn,
ASGI), it is small (routing, Jinja2 templates, static files, a test client) with no
extension layer to learn, and its app can mount other ASGI apps: `extra_routes` is where
a /metrics endpoint (prometheus_client.make_asgi_app()) or /healthz joins without this
module knowing about them."""
from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hub.store.protection import protect

from .views import audit, dualtrack, deadletters, login, overview, queues, reports, trace, users
from .web import Console

STATIC = Path(__file__).resolve().parent / "static"
VIEWS = (login, overview, queues, deadletters, trace, dualtrack, reports, audit, users)

DEFAULTS = {"host": "127.0.0.1", "port": 8400, "secure_cookies": False, "session_hours": 8,
            "lockout_attempts": 5, "lockout_minutes": 15, "refresh_seconds": 5, "rate_minutes": 15,
            "overview_cache_seconds": 5}


def console_settings(settings: dict) -> dict:
    return DEFAULTS | (settings.get("console") or {})


def create_app(settings: dict, store, extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """``extra_routes`` are mounted before the console's own pages and are NOT behind its
    login: meant for machine endpoints (/metrics, /healthz) that have their own rules."""
    routes: list[BaseRoute] = list(extra_routes or [])
    routes.append(Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"))
    for view in VIEWS:
        routes.extend(view.routes())
    app = Starlette(routes=routes)
    protect(store, settings)   # payloads sealed at rest open for the pages that show them
    app.state.console = Console(settings, store, console_settings(settings))
    return app
