"""``observatory export``: stream sessions, runs, messages and reviews to files (or stdout)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from observatory.export.tables import Scope, What, columns, stream
from observatory.export.writers import CsvWriter, Format, JsonLinesWriter, ParquetWriter, Writer

PROGRESS_EVERY_S = 1.0


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _whats(value: str) -> list[What]:
    try:
        return [What(v.strip()) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--what takes a comma list of {', '.join(w.value for w in What)}"
        ) from None


def register_cli(sub: Any) -> None:
    p = sub.add_parser(
        "export", help="stream sessions/runs/messages/reviews as jsonl, csv or parquet"
    )
    p.add_argument("--since", type=_time, help="inclusive start (ISO 8601; UTC if no offset)")
    p.add_argument("--until", type=_time, help="exclusive end")
    p.add_argument("--agent", action="append", default=[], help="only this agent (repeatable)")
    p.add_argument(
        "--format",
        type=Format,
        choices=list(Format),
        default=Format.JSONL,
        help="file format (parquet needs the [parquet] extra; default jsonl)",
    )
    p.add_argument("--what", type=_whats, default=[What.SESSIONS], help="e.g. sessions,runs")
    p.add_argument(
        "--out", "-o", default=".", help="directory for <what>.<format> files, or - for stdout"
    )
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    return asyncio.run(run_export(args))


@contextlib.contextmanager
def _writer(what: What, fmt: Format, out: str) -> Iterator[tuple[Writer, str]]:
    cols = columns(what)
    if fmt is Format.PARQUET:
        path = str(Path(out) / f"{what.value}.parquet")
        pw = ParquetWriter(path, cols)
        try:
            yield pw, path
        finally:
            pw.close()
        return
    handle: IO[str]
    if out == "-":
        handle, path = sys.stdout, "stdout"
    else:
        path = str(Path(out) / f"{what.value}.{fmt.value}")
        handle = open(path, "w", newline="", encoding="utf-8")
    writer: Writer = CsvWriter(handle, cols) if fmt is Format.CSV else JsonLinesWriter(handle, cols)
    try:
        yield writer, path
    finally:
        writer.close()
        if handle is not sys.stdout:
            handle.close()


async def run_export(args: argparse.Namespace) -> int:
    from observatory.db.engine import make_engine
    from observatory.runtime import database_url
    from observatory.settings import load_settings

    if args.out == "-" and (len(args.what) != 1 or args.format is Format.PARQUET):
        print("--out - takes exactly one --what and a text format", file=sys.stderr)
        return 2

    url = database_url(load_settings())
    if args.out != "-":
        Path(args.out).mkdir(parents=True, exist_ok=True)
    scope = Scope(since=args.since, until=args.until, agents=tuple(args.agent))
    engine = make_engine(url, app_name="observatory-export")
    try:
        for what in args.what:
            rows = 0
            started = last = time.monotonic()
            with _writer(what, args.format, args.out) as (writer, path):
                async for batch in stream(engine, what, scope):
                    writer.write(batch)
                    rows += len(batch)
                    if time.monotonic() - last >= PROGRESS_EVERY_S:
                        last = time.monotonic()
                        print(f"{what.value}: {rows} rows …", file=sys.stderr, flush=True)
            took = time.monotonic() - started
            print(f"{what.value}: {rows} rows → {path} ({took:.1f} s)", file=sys.stderr)
    finally:
        await engine.dispose()
    return 0
