"""Plain rows for list pages.

An ORM instance is a reference cycle (its InstanceState holds a weakref whose callback is a
bound method of that state), so it is freed only by the cyclic garbage collector, never by
reference counting. ``app.py`` tunes that collector to run rarely (page p99), so a heavy page of
ORM rows stayed in memory until a full collection: issue 10 saw ~200 MiB kept per heavy request.
List pages therefore select the table's columns and get plain ``Row`` objects, which have the
same attribute names (checked by a test) and are freed as soon as the answer is sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column


def plain(model: Any) -> list[Column[Any]]:
    """The mapped table's columns, to select rows that ``from_row`` reads like instances."""
    return list(model.__table__.c)
