// Tool analytics: which tools agents call, which fail and why, how slow they are. Top tools,
// calls / error rate / p95 latency per tool over time, tool × model, and error groups (by
// fingerprint) with a drawer of failed calls that open the transcript at the failing call.
import { useMemo, useState, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { ToolErrorCallsQuery, ToolErrorsQuery, ToolsQuery } from '../api/operations';
import type { ToolErrorGroupFieldsFragment, ToolsQuery as ToolsResult } from '../gql/graphql';
import { useTheme } from '../app/theme';
import { EChart } from '../charts/EChart';
import { DARK_THEME, LIGHT_THEME, type ChartOption, type Window } from '../charts/options';
import { failedCallHref, isEmptyTools, toolChart, type ToolMetric } from '../charts/tools';
import { Panel } from '../components/Panel';
import { ErrorGroupTable } from '../components/ToolErrors';
import { Empty, ErrorBanner } from '../components/States';
import { formatDateTime, formatDuration, formatInteger, formatPercent } from '../lib/format';
import { useUrlWindow } from '../lib/hooks';
import { PRESETS, resolvePeriod } from '../lib/period';

type ToolRow = ToolsResult['tools'][number];

export default function ToolsPage() {
  const [period, params, set] = useUrlWindow(resolvePeriod);
  const tool = params.get('tool');
  const agent = params.get('agent');
  const groupId = params.get('group');
  const [theme] = useTheme();
  const chartTheme = theme === 'dark' ? DARK_THEME : LIGHT_THEME;
  const filter = useMemo(() => (agent ? { agentIds: [agent] } : null), [agent]);
  const base = useMemo(
    () => ({ from: period.from.toISOString(), to: period.to.toISOString(), bucket: period.bucket, filter }),
    [period, filter],
  );
  const [overview] = useQuery({ query: ToolsQuery, variables: base });
  const [errors] = useQuery({
    query: ToolErrorsQuery,
    variables: { from: base.from, to: base.to, filter, tool, first: 50 },
  });
  const win: Window = { from: period.from, to: period.to, bucket: period.bucket };
  const d = overview.data;

  const charts = useMemo(() => {
    if (!d) return null;
    const build = (metric: ToolMetric) => ({
      option: toolChart(d.series.points, win, metric, d.series.groups, chartTheme),
      empty: isEmptyTools(d.series.points),
    });
    return { calls: build('calls'), errorRate: build('errorRate'), p95: build('p95') };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [d, chartTheme, period]);

  const groups = errors.data?.toolErrors ?? null;
  const openGroup = groups?.find((g) => g.id === groupId) ?? null;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Tools</h1>
          <p>
            {agent ? `${agent} · ` : 'All agents · '}
            {period.from.toLocaleString(undefined, { dateStyle: 'medium' })} – {period.to.toLocaleString(undefined, { dateStyle: 'medium' })}
          </p>
        </div>
        <div className="row wrap">
          {agent ? (
            <button type="button" className="btn btn-sm" onClick={() => set({ agent: null })}>
              {agent} ✕
            </button>
          ) : null}
          <div className="segmented" role="group" aria-label="Period">
            {(Object.keys(PRESETS) as Array<keyof typeof PRESETS>).map((k) => (
              <button type="button" key={k} aria-pressed={period.key === k} onClick={() => set({ period: k === '7d' ? null : k, from: null, to: null })}>
                {PRESETS[k].label}
              </button>
            ))}
          </div>
        </div>
      </div>

      {overview.error ? <ErrorBanner error={overview.error} /> : null}

      <section className="card" aria-labelledby="tools-h" style={{ marginBottom: 16 }}>
        <div className="card-head">
          <h2 id="tools-h">Top tools</h2>
          <span className="muted">Select a tool to see its errors</span>
        </div>
        <ToolTable rows={d?.tools ?? null} selected={tool} onSelect={(t) => set({ tool: t === tool ? null : t, group: null })} />
      </section>

      <div className="charts">
        <ChartCard title="Calls per tool" chart={charts?.calls ?? null} testId="chart-tool-calls" />
        <ChartCard title="Error rate per tool" chart={charts?.errorRate ?? null} testId="chart-tool-errors" />
        <ChartCard title="p95 latency per tool" chart={charts?.p95 ?? null} testId="chart-tool-latency" />
      </div>

      <section className="card" aria-labelledby="tool-model-h" style={{ marginTop: 16 }}>
        <div className="card-head">
          <h2 id="tool-model-h">Tool × model</h2>
          <span className="muted">Error rate (n) and p95 latency of each tool per model</span>
        </div>
        <ToolModelTable rows={d?.byModel ?? null} />
      </section>

      <section className="card" aria-labelledby="tool-errors-h" style={{ marginTop: 16 }}>
        <div className="card-head">
          <h2 id="tool-errors-h">Error groups{tool ? ` · ${tool}` : ''}</h2>
          <span className="muted">Failed calls grouped by their error text with ids, paths and numbers masked</span>
        </div>
        {errors.error ? <ErrorBanner error={errors.error} /> : null}
        <ErrorGroupTable groups={groups} onOpen={(g) => set({ group: g.id })} />
      </section>

      {openGroup ? (
        <ErrorGroupDrawer group={openGroup} from={base.from} to={base.to} filter={filter} onClose={() => set({ group: null })} />
      ) : null}
    </>
  );
}

function ChartCard({ title, chart, testId }: { title: string; chart: { option: ChartOption; empty: boolean } | null; testId: string }) {
  return (
    <section className="card chart-card" aria-label={title}>
      <div className="card-head">
        <h2>{title}</h2>
      </div>
      <div className="chart-box" data-testid={testId} data-state={chart ? (chart.empty ? 'empty' : 'ready') : 'loading'}>
        {chart && !chart.empty ? <EChart option={chart.option} label={title} /> : null}
        {!chart ? (
          <div className="chart-overlay" aria-busy="true">
            Loading…
          </div>
        ) : chart.empty ? (
          <div className="chart-overlay">No tool calls in this period</div>
        ) : null}
      </div>
    </section>
  );
}

function rate(r: { errorRate: number | null; completed: number }): ReactNode {
  return (
    <>
      {formatPercent(r.errorRate)} <span className="muted">n={formatInteger(r.completed)}</span>
    </>
  );
}

function ToolTable({ rows, selected, onSelect }: { rows: ToolRow[] | null; selected: string | null; onSelect: (tool: string) => void }) {
  return (
    <div className="table-wrap">
      <table className="data" data-testid="tools-table">
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col" className="num">Calls</th>
            <th scope="col" className="num">Sessions</th>
            <th scope="col" className="num">Errors</th>
            <th scope="col" className="num">Error rate</th>
            <th scope="col" className="num">Pending</th>
            <th scope="col" className="num">p50</th>
            <th scope="col" className="num">p95</th>
          </tr>
        </thead>
        <tbody>
          {rows === null ? (
            <tr>
              <td colSpan={8} className="muted">
                Loading…
              </td>
            </tr>
          ) : rows.length === 0 ? (
            <tr>
              <td colSpan={8} className="muted">
                No tool calls in this period
              </td>
            </tr>
          ) : null}
          {rows?.map((r) => (
            <tr key={r.tool} aria-selected={selected === r.tool} data-testid="tool-row" style={selected === r.tool ? { background: 'var(--accent-soft)' } : undefined}>
              <td>
                <button type="button" className="row-link" style={{ all: 'unset', cursor: 'pointer', fontWeight: 500 }} onClick={() => onSelect(r.tool)}>
                  <code>{r.tool}</code>
                </button>
              </td>
              <td className="num">{formatInteger(r.calls)}</td>
              <td className="num">{formatInteger(r.sessions)}</td>
              <td className="num">{formatInteger(r.errors)}</td>
              <td className="num">{rate(r)}</td>
              <td className="num">{formatInteger(r.pending)}</td>
              <td className="num">{formatDuration(r.durationP50Ms)}</td>
              <td className="num">{formatDuration(r.durationP95Ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ToolModelTable({ rows }: { rows: ToolsResult['byModel'] | null }) {
  const { tools, models, cell } = useMemo(() => {
    const byKey = new Map((rows ?? []).map((r) => [`${r.tool}\u0000${r.group ?? ''}`, r]));
    return {
      tools: [...new Set((rows ?? []).map((r) => r.tool))],
      models: [...new Set((rows ?? []).map((r) => r.group ?? 'unknown'))].sort(),
      cell: (t: string, m: string) => byKey.get(`${t}\u0000${m}`),
    };
  }, [rows]);
  if (rows === null) return <div className="muted card-pad">Loading…</div>;
  if (rows.length === 0) return <Empty title="No tool calls in this period" />;
  return (
    <div className="table-wrap">
      <table className="data" data-testid="tool-model-table">
        <thead>
          <tr>
            <th scope="col">Tool</th>
            {models.map((m) => (
              <th scope="col" className="num" key={m}>
                {m}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {tools.map((t) => (
            <tr key={t}>
              <td>
                <code>{t}</code>
              </td>
              {models.map((m) => {
                const c = cell(t, m);
                return (
                  <td className="num" key={m}>
                    {c ? (
                      <>
                        {rate(c)}
                        <div className="muted">p95 {formatDuration(c.durationP95Ms)}</div>
                      </>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ErrorGroupDrawer({
  group,
  from,
  to,
  filter,
  onClose,
}: {
  group: ToolErrorGroupFieldsFragment;
  from: string;
  to: string;
  filter: { agentIds: string[] } | null;
  onClose: () => void;
}) {
  const [after, setAfter] = useState<string | null>(null);
  const [result] = useQuery({ query: ToolErrorCallsQuery, variables: { group: group.id, from, to, filter, after } });
  const conn = result.data?.toolErrorCalls;
  return (
    <Panel titleId="tool-error-title" title={<code>{group.tool}</code>} testId="tool-error-drawer" onClose={onClose}>
      <div className="card-pad stack" style={{ gap: 12 }}>
        <p style={{ margin: 0 }}>
          <strong>{group.fingerprint || '(empty error text)'}</strong>
        </p>
        <p className="muted" style={{ margin: 0 }}>
          {formatInteger(group.count)} failed calls in {formatInteger(group.sessions)} sessions · first {formatDateTime(group.firstSeen)} · last{' '}
          {formatDateTime(group.lastSeen)}
        </p>
        {result.error ? <ErrorBanner error={result.error} /> : null}
        {!conn ? <div className="muted">Loading…</div> : null}
        <ul className="stack" style={{ listStyle: 'none', padding: 0, margin: 0, gap: 10 }}>
          {conn?.edges.map(({ node: c }) => (
            <li key={c.id} className="card card-pad" data-testid="tool-error-sample">
              <div className="row wrap muted" style={{ gap: 12 }}>
                <span>{formatDateTime(c.calledAt)}</span>
                <span>{c.agentId}</span>
                {c.model ? <span>{c.model}</span> : null}
                <span>{formatDuration(c.durationMs)}</span>
              </div>
              <pre className="msg-text" style={{ margin: '6px 0' }}>
                {c.errorText}
              </pre>
              <Link href={failedCallHref(c)} data-testid="open-failed-call">
                Open in transcript · {c.session.title || c.session.key}
              </Link>
            </li>
          ))}
        </ul>
        {conn?.pageInfo.hasNextPage ? (
          <button type="button" className="btn btn-sm" onClick={() => setAfter(conn.pageInfo.endCursor ?? null)}>
            Older calls
          </button>
        ) : null}
      </div>
    </Panel>
  );
}
