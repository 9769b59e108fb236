"""``observatory sync`` and ``observatory sources`` (registered by observatory.cli)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from observatory.settings import Settings
from observatory.sync.circuit import Policy
from observatory.sync.live import LiveSync
from observatory.sync.runner import Progress, SyncReport, run_forever, sync_once


def register_cli(subparsers: Any) -> None:
    p = subparsers.add_parser("sync", help="sync sessions from the configured sources")
    p.add_argument("--once", action="store_true", help="one pass, then exit (for cron/ops)")
    p.add_argument("--force", action="store_true", help="ignore backoff and an open circuit")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument(
        "--no-push",
        action="store_true",
        help="poll only: do not watch store files or subscribe to gateway session events",
    )
    p.set_defaults(func=cmd_sync)

    p = subparsers.add_parser("sources", help="manage sync sources")
    sub = p.add_subparsers(dest="sources_cmd", required=True)
    add = sub.add_parser("add", help="add (or reconfigure) a source")
    add.add_argument("name", help="a name for the source, unique")
    add.add_argument(
        "--kind",
        default="openclaw",
        choices=["openclaw", "openclaw-store", "openclaw-gateway"],
        help="how to read it: a state directory, agent stores, or a gateway (default openclaw)",
    )
    add.add_argument("--state-dir", help="the installation's ~/.openclaw directory")
    add.add_argument("--store", action="append", help="an openclaw-agent.sqlite file")
    add.add_argument("--sessions-json", help="a legacy sessions.json")
    add.add_argument("--transcripts-dir", help="where the legacy <sessionId>.jsonl files are")
    add.add_argument("--gateway-url", help="ws://host:18789")
    add.add_argument("--token", help="gateway token (stored in the database)")
    add.add_argument("--token-env", help="environment variable holding the gateway token")
    add.add_argument("--agent", action="append", help="only this agent id (repeatable)")
    add.add_argument("--timeout", type=float, help="network/lock timeout in seconds")
    add.add_argument("--disabled", action="store_true", help="add it disabled")
    sub.add_parser("list", help="sources and their staleness")
    rm = sub.add_parser("remove", help="remove a source that has no sessions")
    rm.add_argument("name", help="the source's name (see `sources list`)")
    for verb in ("enable", "disable"):
        sub.add_parser(verb, help=f"{verb} a source").add_argument(
            "name", help="the source's name (see `sources list`)"
        )
    p.set_defaults(func=cmd_sources)


# -- plumbing -------------------------------------------------------------------------------------


def _with_engine(fn: Callable[[AsyncEngine, Settings], Awaitable[int]]) -> int:
    from observatory.db.engine import make_engine
    from observatory.db.migrate import upgrade_async
    from observatory.runtime import database_url
    from observatory.settings import load_settings

    settings = load_settings()
    url = database_url(settings)

    async def main() -> int:
        await upgrade_async(url)
        engine = make_engine(url, pool_size=4, app_name="observatory-sync")
        try:
            return await fn(engine, settings)
        finally:
            await engine.dispose()

    return asyncio.run(main())


class _ProgressPrinter:
    """One line on stderr at most every half second, and the last one."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if p.done != p.total and now - self._last < 0.5:
            return
        self._last = now
        rate = p.messages / p.elapsed_s if p.elapsed_s > 0 else 0.0
        print(
            f"sync {p.source}: {p.done}/{p.total} sessions, {p.messages} messages "
            f"({rate:,.0f} msg/s)",
            file=sys.stderr,
            flush=True,
        )


def _print_report(report: SyncReport) -> None:
    for s in report.sources:
        line = (
            f"{s.name}: {s.outcome} - {s.sessions_synced}/{s.sessions_listed} sessions synced "
            f"({s.sessions_created} new), {s.runs} runs, {s.messages} messages, "
            f"{s.pruned} pruned, circuit {s.circuit_state.value}, {s.duration_s:.1f}s"
        )
        if s.error:
            line += f"\n  error: {s.error}"
        print(line, file=sys.stderr)
    if not report.sources:
        print("no enabled sources: add one with `observatory sources add`", file=sys.stderr)


# -- sync -----------------------------------------------------------------------------------------


def cmd_sync(args: argparse.Namespace) -> int:
    async def once(engine: AsyncEngine, settings: Settings) -> int:
        report = await sync_once(
            engine,
            settings,
            progress=None if args.quiet else _ProgressPrinter(),
            force=args.force,
            names=args.source,
        )
        _print_report(report)
        return 0 if report.ok else 1

    async def forever(engine: AsyncEngine, settings: Settings) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        tasks = [asyncio.create_task(run_forever(engine, stop, settings))]
        if settings.sync_push and not args.no_push:
            live = LiveSync(
                engine,
                policy=Policy.from_settings(settings),
                debounce_s=settings.sync_debounce_s,
            )
            tasks.append(asyncio.create_task(live.run(stop)))
        await asyncio.gather(*tasks)
        return 0

    return _with_engine(once if args.once else forever)


# -- sources --------------------------------------------------------------------------------------


def _config(args: argparse.Namespace) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for arg, key in (
        ("state_dir", "state_dir"),
        ("sessions_json", "sessions_json"),
        ("transcripts_dir", "transcripts_dir"),
        ("gateway_url", "gateway_url"),
        ("token", "token"),
        ("token_env", "token_env"),
        ("timeout", "timeout"),
    ):
        value = getattr(args, arg)
        if value is not None:
            config[key] = value
    if args.store:
        config["store_paths"] = args.store
    if args.agent:
        config["agents"] = args.agent
    return config


def cmd_sources(args: argparse.Namespace) -> int:
    from sqlalchemy.dialects.postgresql import insert

    from observatory.db.models import Session, SyncSource

    sources = cast(Table, SyncSource.__table__)

    async def run(engine: AsyncEngine, _settings: Settings) -> int:
        async with engine.begin() as conn:
            if args.sources_cmd == "add":
                config = _config(args)
                if not any(
                    k in config
                    for k in ("state_dir", "store_paths", "sessions_json", "gateway_url")
                ):
                    print(
                        "give --state-dir, --store, --sessions-json or --gateway-url",
                        file=sys.stderr,
                    )
                    return 2
                from observatory.sync.openclaw import from_config

                from_config(args.kind, config)  # validate before storing
                stmt = insert(sources).values(
                    name=args.name, kind=args.kind, config=config, enabled=not args.disabled
                )
                stmt = stmt.on_conflict_do_update(
                    index_elements=[sources.c.name],
                    set_={"kind": stmt.excluded.kind, "config": stmt.excluded.config},
                )
                await conn.execute(stmt)
                shown = {k: ("***" if k == "token" else v) for k, v in config.items()}
                print(f"source {args.name} ({args.kind}): {json.dumps(shown)}")
            elif args.sources_cmd == "list":
                counts = dict(
                    (
                        await conn.execute(
                            select(Session.source_id, func.count()).group_by(Session.source_id)
                        )
                    ).all()
                )
                rows = (await conn.execute(select(sources).order_by(sources.c.id))).all()
                if not rows:
                    print("no sources")
                for r in rows:
                    print(
                        f"{r.id:>3} {r.name} [{r.kind}{'' if r.enabled else ', disabled'}] "
                        f"sessions={counts.get(r.id, 0)} circuit={r.circuit_state} "
                        f"failures={r.consecutive_failures}\n"
                        f"    last attempt {_t(r.last_attempt_at)}, last success "
                        f"{_t(r.last_success_at)}, next {_t(r.next_attempt_at)}"
                        + (
                            f"\n    last error ({_t(r.last_error_at)}): {r.last_error}"
                            if r.last_error
                            else ""
                        )
                    )
            elif args.sources_cmd == "remove":
                row = (
                    await conn.execute(select(sources.c.id).where(sources.c.name == args.name))
                ).first()
                if row is None:
                    print(f"no source named {args.name}", file=sys.stderr)
                    return 1
                n = (
                    await conn.execute(select(func.count()).where(Session.source_id == row.id))
                ).scalar_one()
                if n:
                    print(
                        f"source {args.name} has {n} sessions; `observatory sources disable "
                        f"{args.name}` stops syncing it and keeps them",
                        file=sys.stderr,
                    )
                    return 1
                await conn.execute(delete(sources).where(sources.c.id == row.id))
                print(f"removed source {args.name}")
            else:
                result = await conn.execute(
                    update(sources)
                    .where(sources.c.name == args.name)
                    .values(enabled=args.sources_cmd == "enable")
                )
                if result.rowcount == 0:
                    print(f"no source named {args.name}", file=sys.stderr)
                    return 1
                print(f"{args.sources_cmd}d source {args.name}")
        return 0

    return _with_engine(run)


def _t(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value else "never"
