// The runs of a session as a waterfall (like a trace view): one row per run with its start,
// trigger, status, a bar for when and how long it ran, model, tokens and cost. Paged from the API
// (100 runs a page, fetched as you scroll) and virtualised, so a main session with thousands of
// heartbeat runs never loads them all.
import { useVirtualizer } from '@tanstack/react-virtual';
import type { CombinedError } from '@urql/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { SessionRunsQuery } from '../api/operations';
import type { RunStatus, TimelineRunFragment } from '../gql/graphql';
import { formatDateTime, formatDuration, formatInteger, formatTokens, formatUSD } from '../lib/format';
import { barPosition, type Span } from '../lib/timeline';
import { label, StatusBadge } from './Badges';
import { Term } from './Numbers';
import { ErrorBanner } from './States';

const PAGE = 100;
const ROW = 34;

export type TimelineRun = TimelineRunFragment;

export function RunTimeline({
  sessionId,
  span,
  runCount,
  failedRuns,
  selected,
  selectedStartedAt,
  onSelect,
}: {
  sessionId: string;
  span: Span;
  runCount: number;
  failedRuns: number;
  selected: string | null;
  /** When the selected run (e.g. from a heartbeat's link) started: the timeline opens there. */
  selectedStartedAt: string | null;
  onSelect: (id: string) => void;
}) {
  const client = useClient();
  const [failedOnly, setFailedOnly] = useState(false);
  // Start the list at this time instead of the session's first run.
  const [from, setFrom] = useState<string | null>(null);
  const jumped = useRef<string | null>(null);
  const [runs, setRuns] = useState<TimelineRun[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<CombinedError | undefined>();
  const inflight = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  const statuses: RunStatus[] | null = failedOnly ? ['FAILED'] : null;
  const key = `${sessionId}:${failedOnly}:${from}`;
  const keyRef = useRef(key);
  keyRef.current = key;

  const load = useCallback(
    async (after: string | null) => {
      if (inflight.current) return;
      inflight.current = true;
      setLoading(true);
      const asked = key;
      const r = await client
        .query(SessionRunsQuery, { id: sessionId, first: PAGE, after, statuses, startedAfter: from, withTotal: after === null }, { requestPolicy: 'network-only' })
        .toPromise();
      inflight.current = false;
      setLoading(false);
      if (asked !== keyRef.current) return;
      if (r.error) {
        setError(r.error);
        return;
      }
      const conn = r.data?.session?.runs;
      if (!conn) {
        setHasMore(false);
        return;
      }
      setError(undefined);
      if (conn.totalCount !== undefined) setTotal(conn.totalCount);
      const page = conn.edges.map((e) => e.node);
      setRuns((prev) => (after ? [...prev, ...page] : page));
      setCursor(conn.pageInfo.endCursor ?? null);
      setHasMore(conn.pageInfo.hasNextPage);
    },
    // statuses follows failedOnly, which `key` covers.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, sessionId, key],
  );

  useEffect(() => {
    setRuns([]);
    setCursor(null);
    setHasMore(true);
    setTotal(null);
    inflight.current = false;
    void load(null);
  }, [load]);

  // A run selected from outside (a link) that the first page does not hold: open the timeline at
  // it, once per selection, rather than paging through thousands of earlier runs.
  useEffect(() => {
    if (!selected || !selectedStartedAt || jumped.current === selected || loading || total === null) return;
    if (runs.some((r) => r.id === selected)) return;
    jumped.current = selected;
    setFrom(selectedStartedAt);
  }, [selected, selectedStartedAt, loading, total, runs]);

  const count = runs.length + (hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => box.current,
    estimateSize: () => ROW,
    overscan: 10,
    getItemKey: (i) => runs[i]?.id ?? `loader-${i}`,
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];

  useEffect(() => {
    if (last && last.index >= runs.length - 1 && hasMore && !loading && !error && runs.length > 0) void load(cursor);
  }, [last, runs.length, hasMore, loading, error, cursor, load]);

  return (
    <section className="card" aria-labelledby="timeline-h" style={{ marginBottom: 16 }} data-testid="run-timeline">
      <div className="card-head">
        <h2 id="timeline-h">Runs</h2>
        <div className="row">
          <span className="muted" data-testid="timeline-count">
            {total === null ? '' : `${formatInteger(runs.length)} of ${formatInteger(total)} shown`}
            {from ? ` · from ${formatDateTime(from, { short: true })}` : ''}
          </span>
          {from ? (
            <button type="button" className="btn btn-sm btn-ghost" onClick={() => setFrom(null)}>
              From the first run
            </button>
          ) : null}
          <div className="segmented" role="group" aria-label="Show runs">
            <button type="button" aria-pressed={!failedOnly} onClick={() => setFailedOnly(false)}>
              All {formatInteger(runCount)}
            </button>
            <button type="button" aria-pressed={failedOnly} onClick={() => setFailedOnly(true)} disabled={failedRuns === 0}>
              Failed {formatInteger(failedRuns)}
            </button>
          </div>
        </div>
      </div>
      <div className="timeline-row muted" style={{ cursor: 'default', height: 28, fontSize: 11.5 }} aria-hidden="true">
        <span>Start</span>
        <span>Trigger</span>
        <span>Status</span>
        <span>
          <Term name="runDuration" /> · {formatDateTime(new Date(span.from).toISOString(), { short: true })} →{' '}
          {formatDateTime(new Date(span.to).toISOString(), { short: true })}
        </span>
        <span>Model</span>
        <span>Tokens in · out · cache</span>
        <span style={{ textAlign: 'right' }}>Cost</span>
      </div>
      {error ? (
        <div style={{ padding: 16 }}>
          <ErrorBanner error={error} />
        </div>
      ) : null}
      {total === 0 ? (
        <div className="empty" style={{ padding: 24 }}>
          {failedOnly ? 'No failed runs.' : 'No runs recorded yet.'}
        </div>
      ) : (
        <div
          className="timeline"
          ref={box}
          role="listbox"
          aria-label="Runs of this session"
          tabIndex={-1}
          // Up to ~9 rows high, shorter for a session with a few runs.
          style={{ height: Math.min(300, Math.max(1, count) * ROW + 2) }}
        >
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
            {items.map((item) => {
              const run = runs[item.index];
              return (
                <div
                  key={item.key}
                  style={{ position: 'absolute', top: 0, left: 0, width: '100%', height: ROW, transform: `translateY(${item.start}px)` }}
                >
                  {run ? (
                    <RunRow run={run} span={span} selected={run.id === selected} onSelect={onSelect} />
                  ) : (
                    <div className="timeline-row muted" aria-busy="true">
                      Loading runs…
                    </div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </section>
  );
}

function RunRow({ run, span, selected, onSelect }: { run: TimelineRun; span: Span; selected: boolean; onSelect: (id: string) => void }) {
  const bar = barPosition(run.startedAt, run.durationMs ?? null, span);
  const when = formatDateTime(run.startedAt, { short: true });
  return (
    <button
      type="button"
      role="option"
      className="timeline-row"
      aria-selected={selected}
      aria-current={selected}
      data-status={run.status}
      data-testid="timeline-run"
      title={run.error ? `Error: ${run.error}` : (run.outcomePreview ?? undefined)}
      aria-label={`${label(run.trigger)} run at ${when}, ${label(run.status)}${run.error ? `: ${run.error}` : ''}`}
      onClick={() => onSelect(run.id)}
    >
      <span className="timeline-when truncate">{when}</span>
      <span className="truncate">{label(run.trigger)}</span>
      <span>
        <StatusBadge status={run.status} />
      </span>
      <span className="row" style={{ gap: 6, minWidth: 0 }}>
        <span className="timeline-track" style={{ flex: 1 }}>
          <span className="timeline-bar" data-status={run.status} style={{ left: `${bar.left}%`, width: `${bar.width}%` }} />
        </span>
        <span className="num muted" style={{ width: 64, textAlign: 'right' }}>
          {formatDuration(run.durationMs)}
        </span>
      </span>
      <span className="truncate muted">{run.model ?? '—'}</span>
      <span className="num truncate">
        {formatTokens(run.inputTokens)} · {formatTokens(run.outputTokens)} · {formatTokens(run.cacheReadTokens)}
      </span>
      <span className="num" style={{ textAlign: 'right' }}>
        {formatUSD(run.cost)}
      </span>
    </button>
  );
}
