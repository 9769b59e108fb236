"""``observatory`` command line: serve | migrate | demo | keys | sync | sources | export-schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from observatory import __version__
from observatory.db.enums import Role
from observatory.logsetup import configure as configure_logging
from observatory.logsetup import uvicorn_log_config
from observatory.settings import Settings, load_settings


def _settings_and_url(args: argparse.Namespace) -> tuple[Settings, str]:
    from observatory.runtime import database_url

    settings = load_settings()
    return settings, database_url(settings)


def cmd_migrate(args: argparse.Namespace) -> int:
    from observatory.db.migrate import upgrade

    _settings, url = _settings_and_url(args)
    upgrade(url)
    print("database is at the latest migration", file=sys.stderr)
    return 0


def _aware(moment: datetime) -> datetime:
    """``--anchor 2026-01-01`` means UTC: stored times are timezone-aware, never naive."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_demo(args: argparse.Namespace) -> int:
    from observatory.db.engine import asyncpg_dsn
    from observatory.db.migrate import upgrade
    from observatory.demo import DemoConfig, load_demo, print_progress

    _settings, url = _settings_and_url(args)
    upgrade(url)
    cfg = DemoConfig(
        sessions=args.sessions,
        runs_per_session=args.runs_per_session,
        seed=args.seed,
        anchor=_aware(datetime.fromisoformat(args.anchor)) if args.anchor else None,
        days=args.days,
        transcripts=args.transcripts,
    )
    started = datetime.now(UTC)
    report = asyncio.run(load_demo(asyncpg_dsn(url), cfg, progress=print_progress))
    secs = (datetime.now(UTC) - started).total_seconds()
    print(
        f"demo loaded in {secs:.1f}s: {sum(report.sessions.values())} sessions "
        f"{dict(report.sessions)}, {report.runs} runs {dict(report.triggers)}, "
        f"{report.messages} messages, reviews {dict(report.reviews)}",
        file=sys.stderr,
    )
    return 0


async def _has_sessions(url: str) -> bool:
    import asyncpg

    from observatory.db.engine import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM sessions)"))
    finally:
        await conn.close()


async def _demo_admin_key(url: str, path: Path) -> str:
    """Reuse the demo admin key saved under data_dir while it is valid; else make a new one."""
    from sqlalchemy import select

    from observatory.auth.keys import create_key, hash_secret
    from observatory.db.engine import make_engine, make_session_factory
    from observatory.db.models import ApiKey

    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as db, db.begin():
            if path.exists():
                secret = path.read_text().strip()
                found = await db.scalar(
                    select(ApiKey.id).where(
                        ApiKey.hash == hash_secret(secret), ApiKey.revoked_at.is_(None)
                    )
                )
                if found:
                    return secret
            key = await create_key(db, "demo admin", Role.ADMIN)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key.secret)
        path.chmod(0o600)
        return key.secret
    finally:
        await engine.dispose()


def _load_demo_when_up(url: str, host: str, port: int, marker: Path) -> None:
    from observatory.db.engine import asyncpg_dsn
    from observatory.demo import DemoConfig, load_demo

    probe = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    while True:  # until uvicorn listens; it exits the process if it cannot bind
        try:
            socket.create_connection((probe, port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    started = time.monotonic()
    try:
        report = asyncio.run(load_demo(asyncpg_dsn(url), DemoConfig()))
    except Exception:
        logging.getLogger(__name__).exception("loading the demo data failed")
        return
    finally:
        marker.unlink(missing_ok=True)
    print(
        f"  demo data loaded in {time.monotonic() - started:.0f} s "
        f"({sum(report.sessions.values())} sessions, {report.runs} runs)",
        file=sys.stderr,
        flush=True,
    )


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from observatory.db.migrate import upgrade
    from observatory.monitoring.logs import configure, log_config
    from observatory.monitoring.prom import prepare_multiprocess_metrics

    settings, url = _settings_and_url(args)
    if settings.log_format == "json":  # from the first line on (migrations, demo load)
        configure(settings.log_format, "info")
    host = args.host or settings.host
    port = args.port or settings.port
    if not args.no_migrate:
        upgrade(url)
    key_line = ""
    if args.demo:
        from observatory.demo import loading_marker

        marker = loading_marker(settings.data_dir)
        marker.unlink(missing_ok=True)  # left by a run stopped mid-load (that load rolled back)
        secret = asyncio.run(_demo_admin_key(url, settings.data_dir / "demo-admin-key"))
        key_line = f"  demo admin API key: {secret}\n"
        if not asyncio.run(_has_sessions(url)):
            # Load after the server answers: the first page is up in seconds and says
            # "loading demo data" until this finishes (one transaction: all or nothing).
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            threading.Thread(
                target=_load_demo_when_up,
                args=(url, host, port, marker),
                name="demo-loader",
                daemon=True,
            ).start()
    # uvicorn's own "running on" line is at INFO, which a quiet start leaves out.
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    print(
        f"\n  Session Observatory {__version__}: http://{shown}:{port}/\n"
        f"{key_line}"
        f"  GraphQL (GraphiQL): http://{shown}:{port}/graphql\n"
        f"  stop with Ctrl+C\n",
        file=sys.stderr,
        flush=True,
    )
    os.environ["OBSERVATORY_DATABASE_URL"] = url  # workers and the app factory read it
    workers = args.workers or settings.workers
    if workers > 1:
        prepare_multiprocess_metrics(settings.data_dir)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it: with the default handler the
    # process dies there and atexit never stops the embedded PostgreSQL. Exit normally instead.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    uvicorn.run(
        "observatory.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Levels come from the config (quiet start); log_level would override them. JSON
        # format: our config (request context on every record) at the same level.
        log_config=(
            log_config(settings.log_format, settings.log_level)
            if settings.log_format == "json"
            else uvicorn_log_config(settings.log_level)
        ),
        log_level=None,
        lifespan="on",
        # Payloads are small JSON; compressing each frame costs more CPU than it saves.
        ws_per_message_deflate=False,
    )
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    return asyncio.run(_keys(args))


async def _keys(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from observatory.auth.keys import create_key, revoke_key
    from observatory.db.engine import make_engine, make_session_factory
    from observatory.db.models import ApiKey

    _settings, url = _settings_and_url(args)
    engine = make_engine(url, pool_size=1)
    try:
        async with make_session_factory(engine)() as db, db.begin():
            if args.keys_cmd == "create":
                key = await create_key(db, args.name, Role(args.role))
                print(f"created key {key.id} ({key.name}, {key.role.value}); shown once:")
                print(key.secret)
            elif args.keys_cmd == "list":
                rows = (await db.execute(select(ApiKey).order_by(ApiKey.id))).scalars()
                print(f"{'id':>4}  {'prefix':10} {'role':9} {'last used':25} {'revoked':25} name")
                for k in rows:
                    print(
                        f"{k.id:>4}  {k.prefix:10} {k.role.value:9} "
                        f"{k.last_used_at.isoformat() if k.last_used_at else '-':25} "
                        f"{k.revoked_at.isoformat() if k.revoked_at else '-':25} {k.name}"
                    )
            elif args.keys_cmd == "revoke":
                if not await revoke_key(db, args.id):
                    print(f"no active key with id {args.id}", file=sys.stderr)
                    return 1
                print(f"revoked key {args.id}")
        return 0
    finally:
        await engine.dispose()


def cmd_export_schema(args: argparse.Namespace) -> int:
    from observatory.graphql.schema import export_sdl

    sdl = export_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="observatory",
        description="Session Observatory: observability and review for AI agent sessions.",
        epilog="Settings are OBSERVATORY_* environment variables (see the README). "
        "`observatory COMMAND --help` describes a command.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="migrate, then serve the API (and the dashboard if built)")
    p.add_argument(
        "--demo", action="store_true", help="load demo data if empty; print an admin key"
    )
    p.add_argument(
        "--no-migrate",
        action="store_true",
        help="do not apply migrations on start (a one-shot `observatory migrate` did)",
    )
    p.add_argument("--host", help="address to listen on (default OBSERVATORY_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to listen on (default OBSERVATORY_PORT, 8000)")
    p.add_argument(
        "--workers", type=int, help="uvicorn worker processes (default OBSERVATORY_WORKERS, 1)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load deterministic demo data into an empty database")
    p.add_argument("--sessions", type=int, default=240, help="task sessions (default 240)")
    p.add_argument(
        "--runs-per-session", type=int, default=4, help="mean runs per task session (default 4)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed: same seed, same rows")
    p.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    p.add_argument("--anchor", help="ISO time the data ends at (default: this hour)")
    p.add_argument("--transcripts", type=int, default=5000, help="task sessions with transcripts")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("keys", help="manage API keys")
    ks = p.add_subparsers(dest="keys_cmd", required=True)
    kc = ks.add_parser("create", help="create a key; its secret is printed once")
    kc.add_argument("--name", required=True, help="who or what the key is for")
    kc.add_argument(
        "--role", required=True, choices=[r.value for r in Role], help="what the key may do"
    )
    ks.add_parser("list", help="list every key (never the secrets)")
    kr = ks.add_parser("revoke", help="revoke a key")
    kr.add_argument("id", type=int, help="the key's id (see `keys list`)")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("export-schema", help="write the GraphQL SDL (schema.graphql)")
    p.add_argument(
        "--output", "-o", default="schema.graphql", help="file to write (`-` for stdout)"
    )
    p.set_defaults(func=cmd_export_schema)

    for module in ("observatory.sync.cli", "observatory.review.cli", "observatory.export.cli"):
        try:
            register = __import__(module, fromlist=["register_cli"]).register_cli
        except (ImportError, AttributeError):
            continue
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_logging(load_settings().log_level)
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
