import { useCallback, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { HeartbeatsQuery, RunReviewsQuery } from '../api/operations';
import type { HeartbeatsQuery as HeartbeatsResult } from '../gql/graphql';
import { LatestReview, StatusBadge, label } from '../components/Badges';
import { Panel } from '../components/Panel';
import { MultiSelect } from '../components/MultiSelect';
import { RangeSelect, SearchBox, TriStateSelect, useAgentOptions } from '../components/FilterControls';
import { ReviewComposer, ReviewList } from '../components/Reviews';
import { RequestAiReview } from '../components/AiReview';
import { Empty, ErrorBanner, SkeletonRows } from '../components/States';
import { Pager } from '../components/Pager';
import { Term } from '../components/Numbers';
import {
  RUN_STATUSES,
  heartbeatFilterOf,
  readHeartbeatState,
  writeHeartbeatState,
  type HeartbeatQueryState,
} from '../lib/filters';
import { formatDateTime, formatDuration, formatTokens, formatUSD } from '../lib/format';
import { useCursorPages, useNow, useQueryParams } from '../lib/hooks';

const PAGE_SIZE = 50;
type Beat = HeartbeatsResult['heartbeats']['edges'][number]['node'];

/** Heartbeat runs across agents: did the periodic poll act, and was it worth it? */
export default function HeartbeatsPage() {
  const [params, setParams] = useQueryParams();
  const state = readHeartbeatState(params);
  const agentOptions = useAgentOptions();
  const now = useNow(60_000);
  const paramKey = params.toString();
  const minute = Math.floor(now / 60_000);
  const filter = useMemo(
    () => heartbeatFilterOf(state, params, new Date(minute * 60_000)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [paramKey, minute],
  );
  const [result] = useQuery({
    query: HeartbeatsQuery,
    variables: { filter, first: PAGE_SIZE, after: state.after },
  });
  const [open, setOpen] = useState<Beat | null>(null);

  const update = useCallback(
    (patch: Partial<HeartbeatQueryState>, opts: { push?: boolean } = {}) => {
      const current = readHeartbeatState(new URLSearchParams(window.location.search));
      setParams(writeHeartbeatState({ ...current, after: null, ...patch }), opts);
    },
    [setParams],
  );
  const connection = result.data?.heartbeats;
  const pages = useCursorPages({
    list: filter,
    after: state.after,
    pageInfo: connection?.pageInfo,
    go: (after) => update({ after }, { push: true }),
  });
  const rows = connection?.edges.map((e) => e.node) ?? [];
  const filtered =
    state.agents.length + state.statuses.length > 0 ||
    state.search !== '' ||
    state.range !== '' ||
    state.reviewed !== null ||
    state.quiet !== null;

  const body = useRef<HTMLTableSectionElement>(null);
  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const buttons = Array.from(body.current?.querySelectorAll<HTMLButtonElement>('button.row-link') ?? []);
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const t = buttons[e.key === 'ArrowDown' ? Math.min(buttons.length - 1, i + 1) : Math.max(0, i - 1)];
    if (t) {
      e.preventDefault();
      t.focus();
    }
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Heartbeats</h1>
          <p>Periodic polls across agents. Quiet ones replied HEARTBEAT_OK; the rest acted.</p>
        </div>
      </div>
      <section className="card" aria-label="Heartbeat runs">
        <div className="filters" role="search">
          <SearchBox
            value={state.search}
            onChange={(search) => update({ search })}
            placeholder="Search prompt, outcome, title  ( / )"
          />
          <MultiSelect label="Agent" options={agentOptions} selected={state.agents} onChange={(agents) => update({ agents })} />
          <MultiSelect
            label="Status"
            options={RUN_STATUSES.map((s) => ({ value: s, label: label(s) }))}
            selected={state.statuses}
            onChange={(s) => update({ statuses: s as HeartbeatQueryState['statuses'] })}
          />
          <RangeSelect range={state.range} from={state.from} to={state.to} onChange={(p) => update(p)} />
          <TriStateSelect label="Outcome" value={state.quiet} yes="Quiet (OK)" no="Acted" onChange={(quiet) => update({ quiet })} />
          <TriStateSelect
            label="Review"
            value={state.reviewed}
            yes="Reviewed"
            no="Unreviewed"
            onChange={(reviewed) => update({ reviewed })}
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
        <div className="table-wrap">
          <table className="data" data-testid="heartbeats-table" style={{ minWidth: 1140 }}>
            <colgroup>
              <col style={{ width: '140px' }} />
              <col style={{ width: '150px' }} />
              <col style={{ width: '120px' }} />
              <col />
              <col style={{ width: '90px' }} />
              <col style={{ width: '90px' }} />
              <col style={{ width: '90px' }} />
              <col style={{ width: '190px' }} />
            </colgroup>
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col">Outcome</th>
                <th scope="col" className="num">
                  <Term name="runDuration" />
                </th>
                <th scope="col" className="num">
                  Tokens
                </th>
                <th scope="col" className="num">
                  Cost
                </th>
                <th scope="col">Review</th>
              </tr>
            </thead>
            <tbody ref={body} onKeyDown={onKeyDown}>
              {result.fetching && !connection ? <SkeletonRows rows={10} cols={8} /> : null}
              {rows.map((b) => (
                <tr key={b.id} onClick={() => setOpen(b)} data-testid="heartbeat-row">
                  <td className="truncate">
                    <Link
                      href={`/sessions/${b.session.id}?run=${b.id}`}
                      onClick={(e) => e.stopPropagation()}
                      title="Open this run in its session"
                      data-testid="heartbeat-row-run-link"
                    >
                      {b.agent.displayName ?? b.agent.id}
                    </Link>
                  </td>
                  <td title={formatDateTime(b.startedAt)}>
                    <button
                      type="button"
                      className="row-link"
                      style={{ all: 'unset', cursor: 'pointer' }}
                      aria-label={`Heartbeat of ${b.agent.displayName ?? b.agent.id} at ${formatDateTime(b.startedAt)}: open`}
                      onClick={(e) => {
                        e.stopPropagation();
                        setOpen(b);
                      }}
                    >
                      {formatDateTime(b.startedAt, { short: true })}
                    </button>
                  </td>
                  <td>
                    <StatusBadge status={b.status} />
                  </td>
                  <td className="truncate" title={b.outcomePreview ?? undefined}>
                    {b.error ? <span style={{ color: 'var(--bad)' }}>{b.error}</span> : (b.outcomePreview ?? <span className="muted">—</span>)}
                  </td>
                  <td className="num">{formatDuration(b.durationMs)}</td>
                  <td className="num">{formatTokens(b.totalTokens)}</td>
                  <td className="num">{formatUSD(b.cost)}</td>
                  <td>
                    <LatestReview review={b.latestReview} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {connection && rows.length === 0 ? <Empty title="No heartbeats match these filters" /> : null}
        <Pager
          pages={pages}
          pageSize={PAGE_SIZE}
          shown={rows.length}
          total={connection ? connection.totalCount : null}
          none="No heartbeats"
        />
      </section>
      {open ? <HeartbeatPanel beat={open} onClose={() => setOpen(null)} /> : null}
    </>
  );
}

function HeartbeatPanel({ beat, onClose }: { beat: Beat; onClose: () => void }) {
  const [result, reload] = useQuery({ query: RunReviewsQuery, variables: { id: beat.id } });
  const now = useNow(30_000);
  return (
    <Panel
      titleId="hb-title"
      title={`Heartbeat · ${beat.agent.displayName ?? beat.agent.id}`}
      testId="heartbeat-panel"
      onClose={onClose}
    >
      <div className="panel-body stack">
        <dl className="kv">
          <dt>Started</dt>
          <dd>{formatDateTime(beat.startedAt)}</dd>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={beat.status} />
          </dd>
          <dt>
            <Term name="runDuration" />
          </dt>
          <dd>{formatDuration(beat.durationMs)}</dd>
          <dt>Tokens · cost</dt>
          <dd>
            {formatTokens(beat.totalTokens)} · {formatUSD(beat.cost)}
          </dd>
          <dt>Tools</dt>
          <dd>
            {beat.toolCallCount} calls{beat.toolErrorCount ? `, ${beat.toolErrorCount} failed` : ''}
          </dd>
          <dt>Session</dt>
          <dd>
            <Link href={`/sessions/${beat.session.id}?run=${beat.id}`} data-testid="heartbeat-run-link">
              {beat.session.title || beat.session.key} · this run
            </Link>
          </dd>
        </dl>
        {beat.promptPreview ? (
          <div>
            <div className="field-label">Prompt</div>
            <pre className="preview">{beat.promptPreview}</pre>
          </div>
        ) : null}
        <div>
          <div className="field-label">Outcome</div>
          <pre className="preview">{beat.error ?? beat.outcomePreview ?? '—'}</pre>
        </div>
        <div>
          <div className="field-label" style={{ marginBottom: 4 }}>
            Reviews of this heartbeat
          </div>
          <div className="card">
            {result.data?.run ? <ReviewList reviews={result.data.run.reviews} now={now} /> : <div className="card-pad muted">Loading…</div>}
          </div>
        </div>
        <RequestAiReview
          sessionId={beat.sessionId}
          runId={beat.id}
          onDone={() => reload({ requestPolicy: 'network-only' })}
          revision={result.data?.run?.reviews.map((r) => r.id).join(',')}
        />
        <ReviewComposer sessionId={beat.sessionId} runId={beat.id} />
      </div>
    </Panel>
  );
}
