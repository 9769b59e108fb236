"""The Strawberry ASGI view: builds the typed context and authenticates HTTP and WebSocket."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from observatory.db.replicas import MIN_LSN_HEADER, Route, parse_lsn
from observatory.graphql.context import Context, bearer
from observatory.graphql.fanout import Fanout, FanoutHandler
from observatory.graphql.loaders import Loaders
from observatory.graphql.schema import build_schema
from observatory.services import Services
from observatory.settings import Settings


class ObservatoryGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = FanoutHandler

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fanout = Fanout(self.schema)

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
        return Context(
            services=services,
            caller=caller,
            loaders=Loaders(route or services.session_factory),
            request=request,
            response=response,
            route=route,
            min_lsn=min_lsn,
        )

    async def on_ws_connect(self, context: Context) -> Any:
        # Browsers cannot set headers on a WebSocket: the key comes in connection_init.
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization") or params.get("apiKey")
        context.caller = await context.services.keys.resolve(
            bearer(raw) if isinstance(raw, str) else None
        )
        return None


def graphql_app(settings: Settings) -> ObservatoryGraphQL:
    return ObservatoryGraphQL(
        build_schema(settings),
        graphql_ide="graphiql",
        allowed_origins=settings.allowed_origins,
        keep_alive=True,
        keep_alive_interval=15,
    )
