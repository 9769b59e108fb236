import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useClient, useQuery } from 'urql';
import { Link, useLocation } from 'wouter';
import { SessionCreatedSubscription, SessionUpdatedSubscription, SessionsQuery } from '../api/operations';
import type { SessionRowFragment } from '../gql/graphql';
import { KindTag, LatestReview, StatusBadge, label } from '../components/Badges';
import { MultiSelect } from '../components/MultiSelect';
import { RangeSelect, SearchBox, TriStateSelect, useAgentOptions } from '../components/FilterControls';
import { Empty, ErrorBanner, SkeletonRows } from '../components/States';
import { Pager } from '../components/Pager';
import { CsvDownload } from '../components/CsvDownload';
import {
  SESSION_KINDS,
  SESSION_STATUSES,
  VERDICTS,
  readSessionState,
  sessionFilterOf,
  writeSessionState,
  type SessionQueryState,
  type SortField,
} from '../lib/filters';
import { TERMS } from '../lib/terms';
import { formatDateTime, formatDuration, formatInteger, formatRelative, formatTokens, formatUSD } from '../lib/format';
import { useCursorPages, useLiveState, useNow, useQueryParams } from '../lib/hooks';
import { useAuth } from '../app/auth';
import { addArrival, mergeRows } from '../lib/live';

const PAGE_SIZE = 50;
const MAIN_KINDS = ['MAIN', 'TASK', 'HEARTBEAT', 'CRON'] as const;

type Row = SessionRowFragment;

export function SessionsPage() {
  const [params, setParams] = useQueryParams();
  const state = readSessionState(params);
  const agentOptions = useAgentOptions();
  const now = useNow(60_000);

  // Variables change only when the URL (or the minute, for relative ranges) changes.
  const paramKey = params.toString();
  const minute = Math.floor(now / 60_000);
  const filter = useMemo(
    () => sessionFilterOf(state, params, new Date(minute * 60_000)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [paramKey, minute],
  );
  const variables = useMemo(
    () => ({
      filter,
      orderBy: { field: state.sort, direction: state.dir },
      first: PAGE_SIZE,
      after: state.after,
    }),
    [filter, state.sort, state.dir, state.after],
  );
  const [result, refetch] = useQuery({ query: SessionsQuery, variables });

  const update = useCallback(
    (patch: Partial<SessionQueryState>, opts: { push?: boolean } = {}) => {
      const current = readSessionState(new URLSearchParams(window.location.search));
      setParams(writeSessionState({ ...current, after: null, ...patch }), opts);
    },
    [setParams],
  );

  const connection = result.data?.sessions;
  // Cursor paging: forward cursors come from the API; "previous" pops a per-filter stack.
  const pages = useCursorPages({
    list: [filter, state.sort, state.dir],
    after: state.after,
    pageInfo: connection?.pageInfo,
    go: (after) => update({ after }, { push: true }),
  });
  const live = useLiveSessions(filter, state, refetch, connection);
  const socket = useLiveState(useAuth().connection);
  const pageRows = useMemo(() => connection?.edges.map((e) => e.node) ?? [], [connection]);
  const rows = mergeRows(pageRows, live.arrivals, live.updates, PAGE_SIZE);
  const pageIds = new Set(pageRows.map((r) => r.id));
  const unseen = live.arrivals.filter((a) => !pageIds.has(a.id)).length;
  const total = connection ? connection.totalCount + unseen : null;

  const sortBy = (field: SortField) => {
    const dir = state.sort === field ? (state.dir === 'DESC' ? 'ASC' : 'DESC') : 'DESC';
    update({ sort: field, dir });
  };
  const filtered =
    state.agents.length + state.kinds.length + state.statuses.length + state.verdicts.length > 0 ||
    state.search !== '' ||
    state.range !== '' ||
    state.reviewed !== null;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Sessions</h1>
          <p>Every conversation your agents had, with cost, outcome and review.</p>
        </div>
        <div className="row">
          <CsvDownload filter={filter} />
          <span className="live" data-state={socket === 'live' ? 'live' : socket} data-testid="sessions-live">
            <span className={`live-dot ${live.pulse ? 'pulse' : ''}`} key={live.pulse} />
            {socket === 'live' ? 'Updating live' : socket === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
            <span className="new-count" aria-live="polite" data-testid="new-count">
              {live.arrivals.length > 0 ? `+${live.arrivals.length} new` : ''}
            </span>
          </span>
        </div>
      </div>

      <section className="card" aria-label="Sessions">
        <div className="filters" role="search">
          <SearchBox value={state.search} onChange={(search) => update({ search })} placeholder="Search title or key  ( / )" />
          <MultiSelect
            label="Agent"
            testId="filter-agent"
            options={agentOptions}
            selected={state.agents}
            onChange={(agents) => update({ agents })}
          />
          <div className="segmented" role="group" aria-label="Kind">
            {MAIN_KINDS.map((k) => (
              <button
                key={k}
                type="button"
                aria-pressed={state.kinds.includes(k)}
                onClick={() =>
                  update({ kinds: state.kinds.includes(k) ? state.kinds.filter((x) => x !== k) : [...state.kinds, k] })
                }
              >
                {label(k)}
              </button>
            ))}
          </div>
          <MultiSelect
            label="More kinds"
            options={SESSION_KINDS.filter((k) => !(MAIN_KINDS as readonly string[]).includes(k)).map((k) => ({
              value: k,
              label: label(k),
            }))}
            selected={state.kinds.filter((k) => !(MAIN_KINDS as readonly string[]).includes(k))}
            onChange={(extra) =>
              update({
                kinds: [
                  ...state.kinds.filter((k) => (MAIN_KINDS as readonly string[]).includes(k)),
                  ...(extra as SessionQueryState['kinds']),
                ],
              })
            }
          />
          <MultiSelect
            label="Status"
            testId="filter-status"
            options={SESSION_STATUSES.map((s) => ({ value: s, label: label(s) }))}
            selected={state.statuses}
            onChange={(s) => update({ statuses: s as SessionQueryState['statuses'] })}
          />
          <RangeSelect range={state.range} from={state.from} to={state.to} onChange={(p) => update(p)} />
          <TriStateSelect
            label="Review"
            value={state.reviewed}
            yes="Reviewed"
            no="Unreviewed"
            onChange={(reviewed) => update({ reviewed })}
          />
          <MultiSelect
            label="Verdict"
            options={VERDICTS.map((v) => ({ value: v, label: label(v) }))}
            selected={state.verdicts}
            onChange={(v) => update({ verdicts: v as SessionQueryState['verdicts'] })}
          />
          <span className="spacer" />
          {filtered ? (
            <button type="button" className="btn btn-ghost" onClick={() => setParams(new URLSearchParams())}>
              Clear filters
            </button>
          ) : null}
        </div>

        {result.error ? (
          <div style={{ padding: 16 }}>
            <ErrorBanner error={result.error} />
          </div>
        ) : null}

        <SessionsTable
          rows={rows}
          loading={result.fetching && !connection}
          state={state}
          onSort={sortBy}
          newIds={live.newIds}
          updatedIds={live.flashIds}
          now={now}
        />
        {connection && rows.length === 0 ? (
          <Empty title="No sessions match these filters">
            {filtered ? 'Try a wider time range or clear some filters.' : 'Sessions appear here as they are synced.'}
          </Empty>
        ) : null}

        <Pager pages={pages} pageSize={PAGE_SIZE} shown={rows.length} total={total} none="No sessions" testId="sessions-count" />
      </section>
    </>
  );
}

/**
 * New and updated sessions over the WebSocket. New rows are shown on the first page of the
 * default newest-first order; elsewhere they would land out of place, so they only count.
 */
function useLiveSessions(
  filter: ReturnType<typeof sessionFilterOf>,
  state: SessionQueryState,
  refetch: (opts?: { requestPolicy: 'network-only' }) => void,
  page: unknown,
) {
  const client = useClient();
  const [arrivals, setArrivals] = useState<Row[]>([]);
  const [updates, setUpdates] = useState<Map<string, Row>>(() => new Map());
  const [flashIds, setFlashIds] = useState<Set<string>>(() => new Set());
  const [pulse, setPulse] = useState(0);
  const showsNewest = !state.after && state.sort === 'STARTED_AT' && state.dir === 'DESC';
  const showsRef = useRef(showsNewest);
  showsRef.current = showsNewest;

  const filterKey = JSON.stringify(filter);
  useEffect(() => {
    setArrivals([]);
    setUpdates(new Map());
    // The server applies the whole filter (the list query's own predicate), so every event fits.
    const created = client.subscription(SessionCreatedSubscription, { filter }).subscribe((r) => {
      const s = r.data?.sessionCreated;
      if (!s) return;
      setPulse((p) => p + 1);
      if (showsRef.current) setArrivals((a) => addArrival(a, s));
      else refetch({ requestPolicy: 'network-only' });
    });
    const updated = client.subscription(SessionUpdatedSubscription, { filter }).subscribe((r) => {
      const s = r.data?.sessionUpdated;
      if (!s) return;
      setUpdates((m) => new Map(m).set(s.id, s));
      setFlashIds((ids) => new Set(ids).add(s.id));
      setTimeout(
        () =>
          setFlashIds((ids) => {
            const n = new Set(ids);
            n.delete(s.id);
            return n;
          }),
        1600,
      );
    });
    return () => {
      created.unsubscribe();
      updated.unsubscribe();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, filterKey]);

  // A fresh page from the API is newer than every event before it: drop the overlays.
  useEffect(() => setUpdates(new Map()), [page]);

  const newIds = useMemo(() => new Set(arrivals.map((a) => a.id)), [arrivals]);
  return { arrivals: showsNewest ? arrivals : [], updates, newIds, flashIds, pulse };
}

const COLUMNS: Array<{ key: string; label: string; sort?: SortField; width: string; num?: boolean; title?: string }> = [
  { key: 'title', label: 'Session', width: 'auto' },
  { key: 'agent', label: 'Agent', width: '140px' },
  { key: 'status', label: 'Status', width: '120px' },
  { key: 'started', label: 'Started', sort: 'STARTED_AT', width: '140px' },
  { key: 'duration', label: 'Run time', sort: 'DURATION', width: '116px', num: true, title: TERMS.runTime.definition },
  { key: 'runs', label: 'Runs', width: '70px', num: true },
  { key: 'tokens', label: 'Tokens', sort: 'TOKENS', width: '104px', num: true },
  { key: 'cost', label: 'Cost', sort: 'COST', width: '96px', num: true },
  { key: 'review', label: 'Review', width: '172px' },
];

function SessionsTable({
  rows,
  loading,
  state,
  onSort,
  newIds,
  updatedIds,
  now,
}: {
  rows: Row[];
  loading: boolean;
  state: SessionQueryState;
  onSort: (f: SortField) => void;
  newIds: Set<string>;
  updatedIds: Set<string>;
  now: number;
}) {
  const [, navigate] = useLocation();
  const body = useRef<HTMLTableSectionElement>(null);

  // Arrow keys move between rows; Enter follows the focused row's link (native).
  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = Array.from(body.current?.querySelectorAll<HTMLAnchorElement>('a.row-link') ?? []);
    const i = links.indexOf(document.activeElement as HTMLAnchorElement);
    const target = links[e.key === 'ArrowDown' ? Math.min(links.length - 1, i + 1) : Math.max(0, i - 1)];
    if (target) {
      e.preventDefault();
      target.focus();
    }
  };
  const onRowClick = (e: MouseEvent, id: string) => {
    if ((e.target as HTMLElement).closest('a, button') || window.getSelection()?.toString()) return;
    navigate(`/sessions/${id}`);
  };

  return (
    <div className="table-wrap">
      <table className="data" data-testid="sessions-table" style={{ minWidth: 1200 }}>
        <colgroup>
          {COLUMNS.map((c) => (
            <col key={c.key} style={{ width: c.width }} />
          ))}
        </colgroup>
        <thead>
          <tr>
            {COLUMNS.map((c) => {
              const active = c.sort && state.sort === c.sort;
              return (
                <th
                  key={c.key}
                  className={c.num ? 'num' : undefined}
                  aria-sort={active ? (state.dir === 'ASC' ? 'ascending' : 'descending') : undefined}
                  scope="col"
                >
                  {c.sort ? (
                    <button type="button" className="sort" title={c.title} onClick={() => onSort(c.sort as SortField)}>
                      {c.label}
                      <span aria-hidden="true">{active ? (state.dir === 'ASC' ? '↑' : '↓') : '↕'}</span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody ref={body} onKeyDown={onKeyDown}>
          {loading ? <SkeletonRows rows={10} cols={COLUMNS.length} /> : null}
          {rows.map((s) => (
            <tr
              key={s.id}
              className={newIds.has(s.id) ? 'is-new' : updatedIds.has(s.id) ? 'is-updated' : undefined}
              onClick={(e) => onRowClick(e, s.id)}
              data-testid="session-row"
              data-session-id={s.id}
            >
              <td>
                <div className="cell-title" title={s.key}>
                  <KindTag kind={s.kind} />
                  <Link href={`/sessions/${s.id}`} className="row-link">
                    {s.title || s.key}
                  </Link>
                  {newIds.has(s.id) ? <span className="badge accent">new</span> : null}
                  {s.syncError ? (
                    <span className="badge warn" title={s.syncError} data-testid="sync-error-badge">
                      sync error
                    </span>
                  ) : null}
                </div>
              </td>
              <td className="truncate">{s.agent.displayName ?? s.agent.id}</td>
              <td>
                <StatusBadge status={s.status} />
              </td>
              <td title={formatDateTime(s.startedAt)}>
                {formatDateTime(s.startedAt, { short: true })}
                <span className="sr-only"> ({formatRelative(s.startedAt, now)})</span>
              </td>
              <td className="num">{formatDuration(s.durationMs)}</td>
              <td className="num">{formatInteger(s.runCount)}</td>
              <td className="num">{formatTokens(s.totalTokens)}</td>
              <td className="num">{formatUSD(s.totalCost)}</td>
              <td>
                <LatestReview review={s.latestReview} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
