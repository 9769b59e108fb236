"""Row writers: JSON Lines, CSV and Parquet, each fed batch by batch (nothing held whole).

Null stays null: an empty CSV cell, a JSON null, a Parquet null — never an invented zero.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import IO, Any, Protocol

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    Numeric,
    SmallInteger,
)


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


def plain(value: Any) -> Any:
    """A value as JSON would carry it (times ISO 8601, money as a decimal string)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def cell(value: Any) -> str:
    """A CSV cell: JSON for structures, empty for null."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(plain(value))


Convert = Callable[[Any], Any]


def _converters(cols: Sequence[Column[Any]], *, text_json: bool) -> list[Convert | None]:
    """Per column, the conversion its type needs (None: the value is written as it comes;
    our enums are StrEnums, which csv and json already write as their value). Decided once
    from the column types, not per value: the writers touch every cell."""
    out: list[Convert | None] = []
    for c in cols:
        t = c.type
        if isinstance(t, DateTime):
            out.append(lambda v: None if v is None else v.isoformat())
        elif isinstance(t, Numeric) and not isinstance(t, Float):
            out.append(lambda v: None if v is None else str(v))
        elif text_json and isinstance(t, JSON | ARRAY):
            out.append(
                lambda v: (
                    None if v is None else json.dumps(v, ensure_ascii=False, separators=(",", ":"))
                )
            )
        else:
            out.append(None)
    return out


def _apply(rows: Sequence[Sequence[Any]], conv: list[Convert | None]) -> list[list[Any]]:
    pairs = [(i, f) for i, f in enumerate(conv) if f is not None]
    out = []
    for row in rows:
        values = list(row)
        for i, f in pairs:
            values[i] = f(values[i])
        out.append(values)
    return out


class Writer(Protocol):
    def write(self, rows: Sequence[Sequence[Any]]) -> None: ...

    def close(self) -> None: ...


class JsonLinesWriter:
    def __init__(self, out: IO[str], cols: Sequence[Column[Any]]) -> None:
        self.out = out
        self.names = [c.name for c in cols]
        self.conv = _converters(cols, text_json=False)

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        dumps = json.dumps
        names = self.names
        self.out.writelines(
            dumps(dict(zip(names, values, strict=True)), ensure_ascii=False, default=str) + "\n"
            for values in _apply(rows, self.conv)
        )

    def close(self) -> None:
        self.out.flush()


class CsvWriter:
    """CSV with a header row; csv writes None as an empty cell and numbers with str()."""

    def __init__(self, out: IO[str], cols: Sequence[Column[Any]]) -> None:
        self.out = out
        self.csv = csv.writer(out)
        self.csv.writerow([c.name for c in cols])
        self.conv = _converters(cols, text_json=True)

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        self.csv.writerows(_apply(rows, self.conv))

    def close(self) -> None:
        self.out.flush()


class ParquetWriter:
    """One row group per batch, with a schema from the table's column types (so a batch of
    all-null values never guesses a type). Needs the optional ``pyarrow`` (extra `parquet`)."""

    def __init__(self, path: str, cols: list[Column[Any]]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise SystemExit("parquet needs pyarrow: pip install 'observatory[parquet]'") from exc
        self.pa = pa
        self.fields = [pa.field(c.name, _arrow_type(pa, c)) for c in cols]
        self.schema = pa.schema(self.fields)
        self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        arrays = []
        for i, f in enumerate(self.fields):
            values = [row[i] for row in rows]
            if self.pa.types.is_string(f.type):
                values = [None if v is None else cell(v) for v in values]
            arrays.append(self.pa.array(values, type=f.type))
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def _arrow_type(pa: Any, column: Column[Any]) -> Any:
    t = column.type
    if isinstance(t, Boolean):
        return pa.bool_()
    if isinstance(t, SmallInteger):
        return pa.int16()
    if isinstance(t, BigInteger):
        return pa.int64()
    if isinstance(t, Integer):
        return pa.int32()
    if isinstance(t, Float):
        return pa.float64()
    if isinstance(t, Numeric):
        return pa.decimal128(t.precision or 38, t.scale or 0)
    if isinstance(t, DateTime):
        return pa.timestamp("us", tz="UTC")
    return pa.string()  # text, enums, JSON (as JSON text), arrays
