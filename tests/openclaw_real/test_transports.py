"""Store and gateway transports against the real OpenClaw: same sessions, runs and totals.

The truth is what OpenClaw itself wrote (its SQLite stores) and reported (``sessions.list``,
``sessions.usage``). Main sessions hold the heartbeat turns the gateway history hides; the
gateway transport rebuilds them, one run per poll, from ``sessions.usage.timeseries``/``logs``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from openclaw_gateway import AGENTS

from observatory.sync.openclaw.remote import HIDDEN_RUN_PREFIX

if TYPE_CHECKING:
    from conftest import RealRun

pytestmark = pytest.mark.openclaw

# RUN_COLS in tests/sync/sync_helpers.py
KEY, RUN_ID, TRIGGER, STARTED, FINISHED = 0, 1, 3, 5, 6
TOKENS = slice(9, 14)  # input, output, cache read, cache write, cost


def _runs(rows: dict[str, list[Any]]) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for run in rows["runs"]:
        out[run[KEY]].append(run)
    return out


def _boundaries(runs: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Per run: trigger, start, end, tokens and cost (run ids differ for rebuilt runs)."""
    return [(r[TRIGGER], r[STARTED], r[FINISHED], *r[TOKENS]) for r in runs]


def _assert_same_runs(gateway: list[tuple[Any, ...]], store: list[tuple[Any, ...]]) -> None:
    """Identical boundaries, except the end of a run the gateway rebuilt from usage data.

    The gateway shows a hidden (heartbeat) turn nowhere but in ``sessions.usage.timeseries`` /
    ``logs``, which carry each message's own timestamp, not the time its transcript entry was
    written; the store ends a run at that write (measured 23 ms to 5 s later on this machine).
    So a rebuilt run ends at its last reply's timestamp: never after the store's end.
    """
    assert store
    assert len(gateway) == len(store), (_boundaries(gateway), _boundaries(store))
    for g, s in zip(gateway, store, strict=True):
        if str(g[RUN_ID]).startswith(HIDDEN_RUN_PREFIX):
            assert (g[TRIGGER], g[STARTED], *g[TOKENS]) == (s[TRIGGER], s[STARTED], *s[TOKENS])
            assert g[STARTED] <= g[FINISHED] <= s[FINISHED], (g, s)
        else:
            assert _boundaries([g]) == _boundaries([s])


def _main(real_run: RealRun) -> set[str]:
    return set(real_run.scenario.main_keys.values())


def test_both_syncs_succeed(real_run: RealRun) -> None:
    print(f"timings: {real_run.timings}")
    # Per session, the runs each transport made (trigger and input tokens): read with -s.
    store, gateway = _runs(real_run.store.rows), _runs(real_run.gateway.rows)
    for key in sorted(set(store) | set(gateway)):
        print(key, "polls", real_run.polls.get(key))
        print("  store  ", [(r[TRIGGER], r[TOKENS.start]) for r in store.get(key, [])])
        print("  gateway", [(r[TRIGGER], r[TOKENS.start]) for r in gateway.get(key, [])])
    assert real_run.store.report.ok, real_run.store.report
    assert real_run.gateway.report.ok, real_run.gateway.report


def test_gateway_lists_every_agent(real_run: RealRun) -> None:
    listed = {row["key"] for row in real_run.listed}
    assert listed, "sessions.list returned nothing"
    agents = {key.split(":")[1] for key in listed}
    assert agents == set(AGENTS)
    assert listed == real_run.store_keys


def test_scenario_produced_what_it_asked_for(real_run: RealRun) -> None:
    sc = real_run.scenario
    assert len(sc.subagent_keys) == 2
    for key in sc.main_keys.values():
        assert real_run.polls[key] >= 2, real_run.polls
    assert sc.isolated_heartbeat_key in real_run.store_keys
    assert any(":cron:" in key for key in real_run.store_keys)


def test_every_session_present_in_both(real_run: RealRun) -> None:
    store = {s[0] for s in real_run.store.rows["sessions"]}
    gateway = {s[0] for s in real_run.gateway.rows["sessions"]}
    assert store, "the store sync wrote no sessions"
    assert store == real_run.store_keys
    assert gateway == store


def test_session_rows_agree(real_run: RealRun) -> None:
    # key, agent, provider session id, kind, status, provider status, title, parent, model
    store = {s[0]: s[:9] for s in real_run.store.rows["sessions"]}
    gateway = {s[0]: s[:9] for s in real_run.gateway.rows["sessions"]}
    assert store
    assert {k: v for k, v in gateway.items()} == store


@pytest.mark.parametrize("side", ["store", "gateway"])
def test_totals_equal_gateway_usage(real_run: RealRun, side: str) -> None:
    synced = getattr(real_run, side)
    sums: dict[str, list[Any]] = {}
    for key, runs in _runs(synced.rows).items():
        sums[key] = [sum((r[i] or 0) for r in runs) for i in range(TOKENS.start, TOKENS.stop)]
    usage = {
        e["key"]: e["usage"] for e in real_run.usage["sessions"] if isinstance(e.get("usage"), dict)
    }
    assert usage, "sessions.usage reported no sessions"
    for key, u in usage.items():
        if not u.get("messageCounts", {}).get("assistant"):
            continue
        got = sums.get(key)
        assert got is not None, f"{side}: no runs for {key}"
        want = [u["input"], u["output"], u["cacheRead"], u["cacheWrite"]]
        assert got[:4] == want, f"{side} {key}: tokens {got[:4]} != sessions.usage {want}"
        assert abs(Decimal(str(got[4])) - Decimal(str(u["totalCost"]))) < Decimal("1e-9"), key
    totals = real_run.usage["totals"]
    grand = [sum(s[i] for s in sums.values()) for i in range(4)]
    assert grand == [totals["input"], totals["output"], totals["cacheRead"], totals["cacheWrite"]]


def test_store_heartbeat_runs_equal_polls(real_run: RealRun) -> None:
    runs = _runs(real_run.store.rows)
    for key in _main(real_run):
        beats = [r for r in runs[key] if r[TRIGGER] == "heartbeat"]
        assert len(beats) == real_run.polls[key] >= 2, (key, beats)


def test_gateway_heartbeat_runs_equal_polls(real_run: RealRun) -> None:
    runs = _runs(real_run.gateway.rows)
    for key in sorted(_main(real_run)):
        beats = [r for r in runs[key] if r[TRIGGER] == "heartbeat"]
        assert len(beats) == real_run.polls[key] >= 2, (key, beats)


def test_run_boundaries_identical_outside_main_sessions(real_run: RealRun) -> None:
    store, gateway = _runs(real_run.store.rows), _runs(real_run.gateway.rows)
    others = sorted(set(store) - _main(real_run))
    assert others, "no sessions besides the main ones"
    for key in others:
        _assert_same_runs(gateway[key], store[key])


def test_run_boundaries_identical_in_main_sessions(real_run: RealRun) -> None:
    store, gateway = _runs(real_run.store.rows), _runs(real_run.gateway.rows)
    for key in sorted(_main(real_run)):
        _assert_same_runs(gateway[key], store[key])
