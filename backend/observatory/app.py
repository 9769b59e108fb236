"""Starlette app factory: /graphql (HTTP + WebSocket), /healthz, /readyz, /status, the SPA."""

from __future__ import annotations

import contextlib
import gc
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from observatory import __version__
from observatory.auth.keys import KeyResolver
from observatory.db.engine import make_engine, make_session_factory
from observatory.db.replicas import ReadPool
from observatory.demo import loading_marker
from observatory.monitoring import prom
from observatory.monitoring.middleware import RequestContextMiddleware
from observatory.runtime import database_url
from observatory.services import Services
from observatory.settings import Settings, load_settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, run_background: bool = True) -> Starlette:
    settings = settings or load_settings()
    url = database_url(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(
            url, app_name="observatory-api", statement_timeout_ms=settings.statement_timeout_ms
        )
        factory = make_session_factory(engine)
        services = Services(
            settings=settings,
            database_url=url,
            engine=engine,
            session_factory=factory,
            keys=KeyResolver(factory),
            reads=(
                ReadPool.from_urls(factory, settings.database_replica_urls, settings.replica_poll_s)
                if settings.database_replica_urls
                else None
            ),
        )
        app.state.services = services
        # Objects alive after start-up (schema, models) never become garbage: keep the cyclic
        # collector off them, and let it run less often on request garbage (tail latency).
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)
        async with services.run(background=run_background):
            yield
        await services.keys.flush()
        await engine.dispose()
        prom.process_exiting()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        # No key configured: no /metrics (it reveals agent names and traffic).
        key = settings.metrics_key
        if not key:
            return JSONResponse({"error": "not found"}, status_code=404)
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), key.encode()
        ):
            return JSONResponse({"error": "a valid metrics key is required"}, status_code=401)
        services: Services = request.app.state.services
        pool = services.engine.pool
        prom.db_pool_checked_out.set(pool.checkedout())  # type: ignore[attr-defined]
        prom.db_pool_size.set(pool.size())  # type: ignore[attr-defined]
        body, content_type = prom.exposition()
        return Response(body, media_type=content_type)

    async def readyz(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            async with services.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # readiness must answer, never raise
            log.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        if services.reads is None:
            return JSONResponse({"status": "ok", "database": "up"})
        # A replica down is not unreadiness (reads fall back to the primary): report it.
        replicas = await services.reads.status()
        degraded = any(r["status"] != "up" for r in replicas)
        return JSONResponse(
            {"status": "degraded" if degraded else "ok", "database": "up", "replicas": replicas}
        )

    async def status(request: Request) -> Response:
        # Public, no key: the dashboard's footer (version) and its "loading demo data" note,
        # shown before anyone has signed in.
        return JSONResponse(
            {
                "version": __version__,
                "demoLoading": loading_marker(settings.data_dir).exists(),
            }
        )

    from observatory.graphql.app import graphql_app

    gql = graphql_app(settings)
    routes: list[Route | Mount | WebSocketRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/status", status),
        Route("/metrics", metrics),
        Route("/graphql", gql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", gql),
    ]
    routes += _spa_routes(settings.frontend_dir)
    return Starlette(
        routes=routes, lifespan=lifespan, middleware=[Middleware(RequestContextMiddleware)]
    )


def _spa_routes(dist: Path | None) -> list[Route | Mount | WebSocketRoute]:
    if dist is None or not (dist / "index.html").is_file():
        return [Route("/", _no_frontend)]
    index = dist / "index.html"

    async def spa(request: Request) -> Response:
        return FileResponse(index)

    routes: list[Route | Mount | WebSocketRoute] = []
    if (dist / "assets").is_dir():
        routes.append(Mount("/assets", StaticFiles(directory=dist / "assets"), name="assets"))
    for item in dist.iterdir():
        if item.is_file() and item.name != "index.html":
            routes.append(Route(f"/{item.name}", _file_endpoint(item)))
    routes.append(Route("/{path:path}", spa))
    return routes


def _file_endpoint(path: Path) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return FileResponse(path)

    return endpoint


async def _no_frontend(request: Request) -> Response:
    return JSONResponse(
        {
            "service": "Session Observatory",
            "graphql": "/graphql",
            "dashboard": "not built: run `make frontend` (npm ci && npm run build in frontend/)",
        }
    )
