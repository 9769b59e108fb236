"""The Strawberry ASGI view: builds the typed context and authenticates HTTP and WebSocket.

Every refusal at the HTTP level is GraphQL-shaped JSON with ``extensions.code``: a body over
``max_body_bytes`` (413), a body that is not a JSON object (400), the database unreachable
while authenticating (503 SERVICE_UNAVAILABLE).
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from observatory.db.replicas import MIN_LSN_HEADER, Route, parse_lsn
from observatory.graphql.context import Context, bearer
from observatory.graphql.errors import database_failure
from observatory.graphql.fanout import Fanout, FanoutHandler
from observatory.graphql.limiter import KeyLimiter
from observatory.graphql.loaders import Loaders
from observatory.graphql.persisted import FROM_MANIFEST, PersistedError, PersistedOperations
from observatory.graphql.schema import build_schema, coded
from observatory.services import Services
from observatory.settings import Settings

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    pass


GRAPHQL_RESPONSE = "application/graphql-response+json"
# Set while answering one HTTP request (this task): its result is a GraphQL request error.
REQUEST_ERROR: ContextVar[bool] = ContextVar("request_error", default=False)


def wants_graphql_response(accept: str | None) -> bool:
    """The client asked for GraphQL-over-HTTP's media type (status codes carry meaning)."""
    return accept is not None and GRAPHQL_RESPONSE in accept


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def error_response(status: int, message: str, code: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status,
    )


class LiveHandler(FanoutHandler):
    """Lets the socket's context reach its handler, so live authorisation can end each of
    the socket's operations with UNAUTHENTICATED (observatory.auth.live)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context.ws_handler = self


class ObservatoryGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = LiveHandler

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(build_schema(settings), **kwargs)
        self.fanout = Fanout(self.schema)
        self.max_body = settings.max_body_bytes
        self.settings = settings
        self.persisted = PersistedOperations.from_settings(settings)
        self._limiter: KeyLimiter | None = None

    def limiter(self, services: Services) -> KeyLimiter:
        # Built on first use: the engine belongs to the app's lifespan, not to this view.
        if self._limiter is None or self._limiter.factory is not services.session_factory:
            self._limiter = KeyLimiter(
                services.session_factory,
                self.settings.key_db_concurrency,
                self.settings.statement_timeout_ms / 1000,
            )
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        response: Response | None = None
        length = dict(scope.get("headers") or ()).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            response = self._too_large()
        else:
            try:
                REQUEST_ERROR.set(False)
                response = await self.run(Request(scope, self._bounded(receive)))
                if wants_graphql_response(_header(scope, b"accept")) and response.headers.get(
                    "content-type", ""
                ).startswith("application/json"):
                    response.headers["content-type"] = GRAPHQL_RESPONSE
                    if REQUEST_ERROR.get() and response.status_code == 200:
                        response.status_code = 400
            except BodyTooLarge:
                response = self._too_large()
            except HTTPException as e:
                response = error_response(e.status_code, e.reason, "BAD_REQUEST")
            except PersistedError as e:
                # A request error: 200 for application/json clients, 4xx (and no `data`) for
                # those that accept application/graphql-response+json (GraphQL-over-HTTP).
                if wants_graphql_response(_header(scope, b"accept")):
                    status = 404 if e.code == "PERSISTED_QUERY_NOT_FOUND" else 400
                    response = JSONResponse(
                        {"errors": [{"message": e.message, "extensions": {"code": e.code}}]},
                        status_code=status,
                        media_type=GRAPHQL_RESPONSE,
                    )
                else:
                    response = error_response(200, e.message, e.code)
            except Exception as exc:
                if database_failure(exc) != "SERVICE_UNAVAILABLE":
                    raise
                log.warning("database unavailable: %s", str(exc)[:300])
                response = error_response(
                    503, "The database is unavailable; try again shortly.", "SERVICE_UNAVAILABLE"
                )
        await response(scope, receive, send)

    def _too_large(self) -> JSONResponse:
        return error_response(
            413, f"the request body is larger than {self.max_body} bytes", "BAD_USER_INPUT"
        )

    def _bounded(self, receive: Receive) -> Receive:
        """Counts streamed (chunked) bodies too, which carry no content-length."""
        seen = 0
        limit = self.max_body

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
            return message

        return bounded

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted operation is an API call, not a browser opening GraphiQL.
        params = request.query_params
        named = "documentId" in params or "extensions" in params
        return not named and super().should_render_graphql_ide(request)

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if isinstance(data, list):  # batching is off: refused further on
            return data
        raw: Any
        if request.method == "GET":
            raw = self.parse_query_params(request.query_params)
        elif data.query is None:
            # `documentId` (GraphQL-over-HTTP) is not in Strawberry's request data: read the
            # (small, cached) body again.
            raw = self.decode_json(await request.get_body())
        else:
            raw = {"query": data.query, "extensions": data.extensions}
        document, from_manifest = self.persisted.resolve(raw)
        FROM_MANIFEST.set(from_manifest)
        data.query = document
        return data

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = json.loads(data)
        except RecursionError:
            raise HTTPException(400, "the request body nests too deeply") from None
        if not isinstance(value, dict):
            # Batching is off: only an object is a GraphQL request. (`null` once gave a 500.)
            raise HTTPException(400, "the request body must be a JSON object")
        return value

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        # Syntax errors skip the schema's error extension (no operation ran): code them here.
        if result.errors:
            result.errors = [coded(e) for e in result.errors]
        body = await super().process_result(request, result)
        if wants_graphql_response(request.headers.get("accept")):
            # GraphQL-over-HTTP: nothing executed (parse, validation, variables, a refusal before
            # execution: no error has a path) is a request error: 400 and no `data` entry.
            if result.data is None and result.errors and all(e.path is None for e in result.errors):
                body.pop("data", None)
                REQUEST_ERROR.set(True)
        return body

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        services: Services = request.app.state.services
        caller = None
        route = None
        min_lsn = None
        if isinstance(request, Request):
            caller = await services.keys.resolve(bearer(request.headers.get("authorization")))
            if services.reads is not None:
                route = Route(services.session_factory)
                min_lsn = parse_lsn(request.headers.get(MIN_LSN_HEADER))
        limiter = self.limiter(services)
        return Context(
            services=services,
            caller=caller,
            loaders=Loaders(
                limiter.opener(caller.key_id if caller else None, route or services.session_factory)
            ),
            request=request,
            response=response,
            route=route,
            min_lsn=min_lsn,
            limiter=limiter,
        )

    async def on_ws_connect(self, context: Context) -> Any:
        # Browsers cannot set headers on a WebSocket: the key comes in connection_init.
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization") or params.get("apiKey")
        context.caller = await context.services.keys.resolve(
            bearer(raw) if isinstance(raw, str) else None
        )
        if context.services.live_auth is not None:
            context.services.live_auth.register(context)
        return None


def graphql_app(settings: Settings) -> ObservatoryGraphQL:
    return ObservatoryGraphQL(
        settings,
        graphql_ide="graphiql",
        allowed_origins=settings.allowed_origins,
        keep_alive=True,
        keep_alive_interval=15,
        # Sockets that never authenticate are closed (4408) instead of lingering (issue 10:
        # 500 of them stayed open).
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_s),
    )
