"""Memory stays flat: a request's rows are freed by reference counting, not left for the rarely
run full collection (app.py tunes the collector for page latency). Issue 10 saw ~200 MiB kept
per heavy request; bench/bench_memory.py shows RSS across repeated heavy requests."""

from __future__ import annotations

import gc
from collections import Counter

from tests.graphql.conftest import Api

PAGE = """{ sessions(first: 40) { edges { node { id title agent { id } latestReview { summary }
  runs(first: 3) { edges { node { id model messages(first: 3) { edges { node { text } } } } } }
  messages(first: 5) { edges { node { role text } } } } } } }"""


async def test_a_page_leaves_no_rows_in_reference_cycles(api: dict[str, Api]) -> None:
    await api["viewer"].ok(PAGE)  # warm caches (parser, validation, loaders' code paths)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        data = await api["viewer"].ok(PAGE)
        del data
        gc.collect()
        garbage = list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    kinds = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in garbage)
    row_kinds = ("sqlalchemy.engine.row.Row", "sqlalchemy.orm.state.InstanceState")
    rows = {k: n for k, n in kinds.items() if k in row_kinds or k.startswith("observatory.db")}
    assert rows == {}, rows  # before the fix: ~480 InstanceStates, ~350 Messages, 124 Runs
    assert len(garbage) < 1000, kinds.most_common(10)
