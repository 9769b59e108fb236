"""Logging set-up: plain text by default, one JSON object per line with
``OBSERVATORY_LOG_FORMAT=json`` (python-json-logger), request context on every record."""

from __future__ import annotations

from typing import Any

FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def log_config(fmt: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the app and uvicorn (passed as its log_config)."""
    json_out = fmt == "json"
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        }
        if json_out
        else {"format": "%(levelname)s %(name)s: %(message)s"}
    )
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "main",
        "filters": ["request"],
        "stream": "ext://sys.stderr",
    }
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "observatory.monitoring.context.RequestContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"handlers": ["main"], "level": upper},
        "loggers": {
            "uvicorn": {"handlers": ["main"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            # Our middleware writes one access line per request with the request context;
            # uvicorn's own access log would say the same without it.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure(fmt: str, level: str) -> None:
    import logging.config

    logging.config.dictConfig(log_config(fmt, level))
    logging.captureWarnings(True)
