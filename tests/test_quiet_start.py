"""A quiet, clear start: help on every CLI option, --version, log levels, short access lines."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator

import pytest

from observatory import __version__
from observatory.cli import build_parser, main
from observatory.logsetup import (
    MAX_PATH_CHARS,
    QUIET_LOGGERS,
    ShortRequestLine,
    configure,
    uvicorn_log_config,
)


def _parsers(
    parser: argparse.ArgumentParser, path: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_option_and_command_has_help() -> None:
    parsers = list(_parsers(build_parser(), "observatory"))
    assert len(parsers) > 10
    missing = []
    for path, parser in parsers:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {a.dest for a in action._choices_actions if a.help}
                missing += [f"{path} {name}" for name in action.choices if name not in helped]
            elif not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert len(sub.choices) >= 8
    for command in sub.choices:
        assert f"    {command}" in out, command


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"observatory {__version__}"


@pytest.fixture
def restore_levels() -> Iterator[None]:
    saved = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_levels")
@pytest.mark.parametrize(("level", "expected"), [("info", "WARNING"), ("debug", "DEBUG")])
def test_quiet_loggers(level: str, expected: str) -> None:
    configure(level)
    assert QUIET_LOGGERS
    for name in QUIET_LOGGERS:
        assert logging.getLevelName(logging.getLogger(name).level) == expected, name
    uvicorn = uvicorn_log_config(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert uvicorn["loggers"][name]["level"] == expected
    assert "short_request_line" in uvicorn["handlers"]["access"]["filters"]


def test_access_line_path_is_cut() -> None:
    query = "/graphql?query=" + "x" * 2000
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", query, "1.1", 200),
        None,
    )
    assert ShortRequestLine().filter(record)
    line = record.getMessage()
    assert len(line) < MAX_PATH_CHARS + 60 and line.startswith('127.0.0.1:5000 - "GET /graphql?')
    assert line.endswith('… HTTP/1.1" 200')
