"""Shared subscription execution: one run per group of identical subscriptions, one frame for all.

A thousand dashboards subscribed to ``sessionCreated`` with the same selection would otherwise
execute the same selection a thousand times per event (measured: ~45% of a delivery's cost) and
JSON-encode it a thousand times (another ~15%). Subscribers are grouped by everything that can
change the result: the document, the operation name, the variables, the caller's scope set and,
when the document selects a field whose value depends on who asks (``per_caller`` metadata, e.g.
``Review.editable``), the caller's key. Each group runs the subscription once with a context
standing for its callers and hands the encoded payload to every member's socket outbox.

Every socket writes through one bounded outbox drained by its own task, so a slow client never
delays the others: when its outbox overflows it is closed (1008) and dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    visit,
)
from observatory.graphql.context import Context

log = logging.getLogger(__name__)

SLOW_CLOSE = 1008  # policy violation: the client does not read its frames fast enough


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class Outbox:
    """One socket's bounded write queue and the task that drains it."""

    def __init__(
        self, send: Callable[[str], Any], close: Callable[[int, str], Any], maxsize: int
    ) -> None:
        self._send = send
        self._close = close
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize)
        self._task: asyncio.Task[None] | None = None
        self.dropped = False

    def put(self, frame: str) -> None:
        if self.dropped:
            return
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name="ws-outbox")
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.drop()

    def drop(self) -> None:
        """Close a socket that stopped reading; its pending frames are discarded."""
        if self.dropped:
            return
        self.dropped = True
        log.warning("closing a WebSocket that fell %d frames behind", self._queue.maxsize)
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.create_task(self._close_quietly(), name="ws-outbox-close")

    async def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self._close(SLOW_CLOSE, "subscriber too slow: send queue overflowed"), 5
            )

    async def _drain(self) -> None:
        try:
            while True:
                await self._send(await self._queue.get())
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.dropped = True  # the peer is gone: the handler's read loop ends the rest

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


@dataclass(eq=False)
class _Member:
    handler: FanoutHandler
    operation: Operation[Context, None]
    done: asyncio.Future[list[GraphQLError] | None]
    prefix: str = ""

    def deliver(self, payload: str) -> None:
        if not self.operation.completed:
            self.handler.outbox.put(f"{self.prefix}{payload}}}")


@dataclass(eq=False)
class _Group:
    key: Hashable
    members: set[_Member] = field(default_factory=set)
    last: str | None = None  # kept for snapshot subscriptions: a late joiner gets it first
    snapshot: bool = False
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True)
class _Shape:
    """What the document says about sharing: None when it is not a plain subscription."""

    per_caller: bool
    snapshot: bool
    # A resumable feed given ``after:``: each operation replays from its own position, so it
    # runs alone (without ``after`` a feed starts "now" for every member: shareable).
    unshared: bool = False


class Fanout:
    """Groups of identical subscriptions on this worker (owned by the GraphQL view)."""

    def __init__(self, schema: Any) -> None:
        self._schema = schema
        self._groups: dict[Hashable, _Group] = {}
        gql: GraphQLSchema = schema._schema
        self._per_caller, self._snapshot, self._unshared = _marked_fields(gql)
        self.shape = lru_cache(maxsize=256)(self._shape)

    @property
    def group_count(self) -> int:
        return len(self._groups)

    def key(self, operation: Operation[Context, None], context: Context) -> Hashable | None:
        caller = context.caller
        if caller is None:
            return None  # errors only: the ordinary path reports them
        try:
            variables = (
                json.dumps(operation.variables, sort_keys=True) if operation.variables else ""
            )
        except (TypeError, ValueError):
            return None
        shape = self.shape(operation.query, operation.operation_name)
        if shape is None or shape.unshared:
            return None
        return (
            operation.query,
            operation.operation_name,
            variables,
            caller.scopes,
            caller.key_id if shape.per_caller else None,
        )

    def _shape(self, query: str, operation_name: str | None) -> _Shape | None:
        try:
            document = parse(query)
        except GraphQLError:
            return None
        op = _operation(document, operation_name)
        if op is None or op.operation is not OperationType.SUBSCRIPTION:
            return None
        fields = _selected_fields(self._schema._schema, document)
        root = self._schema._schema.subscription_type.name
        roots = {f for t, f in fields if t == root}
        return _Shape(
            per_caller=bool(fields & self._per_caller),
            snapshot=bool(roots) and all((root, r) in self._snapshot for r in roots),
            unshared=any(
                isinstance(sel, FieldNode)
                and (root, sel.name.value) in self._unshared
                and any(arg.name.value == "after" for arg in sel.arguments or ())
                for sel in op.selection_set.selections
            ),
        )

    async def join(
        self, key: Hashable, handler: FanoutHandler, operation: Operation[Context, None]
    ) -> list[GraphQLError] | None:
        """Deliver the group's results to this operation until the group or the caller ends.
        Returns the group's pre-execution errors, if it had any."""
        member = _Member(
            handler,
            operation,
            asyncio.get_running_loop().create_future(),
            prefix=f'{{"id":{_encode(operation.id)},"type":"next","payload":',
        )
        group = self._groups.get(key)
        if group is None:
            shape = self.shape(operation.query, operation.operation_name)
            group = self._groups[key] = _Group(key, snapshot=bool(shape and shape.snapshot))
            group.members.add(member)
            group.task = asyncio.create_task(
                self._run(group, operation, handler.context), name="fanout-group"
            )
        else:
            group.members.add(member)
            if group.snapshot and group.last is not None:
                member.deliver(group.last)
        try:
            return await member.done
        finally:
            group.members.discard(member)
            if not group.members and self._groups.get(key) is group:
                del self._groups[key]
                if group.task is not None:
                    group.task.cancel()

    async def _run(self, group: _Group, first: Operation[Context, None], ctx: Context) -> None:
        # The group's own context: the members' shared caller (same scopes; same key when a
        # per-caller field is selected), no request objects, fresh loaders.
        context = Context(services=ctx.services, caller=ctx.caller, loaders=ctx.fresh_loaders())
        errors: list[GraphQLError] | None = None
        try:
            source = await self._schema.subscribe(
                first.query,
                variable_values=first.variables,
                context_value=context,
                operation_name=first.operation_name,
            )
            async with aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError):
                        errors = list(result.errors or [])
                        return
                    if not isinstance(result, ExecutionResult):
                        continue
                    payload = _encode(_payload(result))
                    if group.snapshot:
                        group.last = payload
                    for member in list(group.members):
                        member.deliver(payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("shared subscription failed")
        finally:
            if self._groups.get(group.key) is group:
                del self._groups[group.key]
            for member in list(group.members):
                if not member.done.done():
                    member.done.set_result(errors)


class FanoutHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with shared subscription groups and a bounded outbox per socket."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ws = self.websocket.ws  # type: ignore[attr-defined]
        self.outbox = Outbox(
            ws.send_text,
            lambda code, reason: ws.close(code=code, reason=reason),
            self.context.services.settings.subscriber_queue_size,
        )

    async def send_message(self, message: Message) -> None:
        self.outbox.put(_encode(message))

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.outbox.stop()

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        fanout: Fanout = self.view.fanout  # type: ignore[attr-defined]
        shared = self.context.services.settings.shared_subscriptions
        key = fanout.key(operation, self.context) if shared else None
        if key is None:
            await super().run_operation(operation)
            return
        errors = await fanout.join(key, self, operation)
        if errors:
            await operation.send_initial_errors(errors)
        else:
            await operation.send_operation_message({"id": operation.id, "type": "complete"})


def _payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((o for o in ops if o.name and o.name.value == name), None)


def _selected_fields(schema: GraphQLSchema, document: DocumentNode) -> frozenset[tuple[str, str]]:
    """(parent type, field) for every field the document selects (fragments included)."""
    info = TypeInfo(schema)
    found: set[tuple[str, str]] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None:
                found.add((parent.name, node.name.value))

    visit(document, TypeInfoVisitor(info, Collect()))
    return frozenset(found)


def _marked_fields(
    schema: GraphQLSchema,
) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """Fields whose Strawberry metadata says ``per_caller``, ``snapshot`` or ``unshared``."""
    per_caller: set[tuple[str, str]] = set()
    snapshot: set[tuple[str, str]] = set()
    unshared: set[tuple[str, str]] = set()
    for type_ in schema.type_map.values():
        for name, f in (getattr(type_, "fields", None) or {}).items():
            definition = (getattr(f, "extensions", None) or {}).get("strawberry-definition")
            metadata = getattr(definition, "metadata", None) or {}
            if metadata.get("per_caller"):
                per_caller.add((type_.name, name))
            if metadata.get("snapshot"):
                snapshot.add((type_.name, name))
            if metadata.get("unshared"):
                unshared.add((type_.name, name))
    return frozenset(per_caller), frozenset(snapshot), frozenset(unshared)
