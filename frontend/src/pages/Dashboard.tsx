import { useMemo, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { DashboardQuery, ToolErrorsQuery, UsageSeriesQuery } from '../api/operations';
import { ErrorGroupTable } from '../components/ToolErrors';
import type { DashboardQuery as DashboardResult, SessionStatus } from '../gql/graphql';
import { EChart } from '../charts/EChart';
import {
  DARK_THEME,
  LIGHT_THEME,
  durationDistribution,
  isEmptyHistogram,
  isEmptyMatrix,
  isEmptyVerdicts,
  runsByTrigger,
  stackedOverTime,
  toMatrix,
  verdictMix,
  colorOf,
  type ChartOption,
  type ChartTheme,
  type Metric,
  type Window,
} from '../charts/options';
import { useTheme } from '../app/theme';
import { label } from '../components/Badges';
import { ErrorBanner } from '../components/States';
import { Rate, Sample, Term } from '../components/Numbers';
import { TERMS } from '../lib/terms';
import { formatDateTime, formatDuration, formatInteger, formatPercent, formatTokens, formatUSD } from '../lib/format';
import { useUrlWindow } from '../lib/hooks';
import { PRESETS, resolvePeriod, toDayParam, type PeriodKey } from '../lib/period';

type GroupBy = 'AGENT' | 'MODEL';

export default function DashboardPage() {
  const [period, params, set] = useUrlWindow(resolvePeriod);
  const groupBy: GroupBy = params.get('by') === 'model' ? 'MODEL' : 'AGENT';
  const agent = params.get('agent');
  const [theme] = useTheme();
  const chartTheme = theme === 'dark' ? DARK_THEME : LIGHT_THEME;

  const base = useMemo(
    () => ({
      from: period.from.toISOString(),
      to: period.to.toISOString(),
      bucket: period.bucket,
      filter: agent ? { agentIds: [agent] } : null,
    }),
    [period, agent],
  );
  const [overview] = useQuery({ query: DashboardQuery, variables: base });
  const [usage] = useQuery({ query: UsageSeriesQuery, variables: { ...base, groupBy } });
  const win: Window = { from: period.from, to: period.to, bucket: period.bucket };

  const d = overview.data;
  const s = d?.summary;
  // Legends show agents by display name; colours stay keyed by id (charts/options colorOf).
  const names = useMemo(
    () => Object.fromEntries((d?.agents ?? []).map((a) => [a.id, a.displayName ?? a.id])),
    [d?.agents],
  );
  const usagePoints = usage.data?.metricSeries.points;
  const charts = useMemo(() => {
    const build = (metric: Metric): { option: ChartOption; empty: boolean } | null =>
      usagePoints
        ? {
            option: stackedOverTime(usagePoints, win, metric, chartTheme, groupBy === 'AGENT' ? names : {}),
            empty: isEmptyMatrix(toMatrix(usagePoints, win, metric)),
          }
        : null;
    return {
      cost: build('cost'),
      tokens: build('totalTokens'),
      triggers: d
        ? {
            option: runsByTrigger(d.triggers.points.map((p) => ({ ...p, group: p.group.toLowerCase() })), win, chartTheme),
            empty: isEmptyMatrix(toMatrix(d.triggers.points, win, 'runCount')),
          }
        : null,
      durations: d ? { option: durationDistribution(d.durations, chartTheme), empty: isEmptyHistogram(d.durations) } : null,
      verdicts: d ? { option: verdictMix(d.verdicts, win, chartTheme), empty: isEmptyVerdicts(d.verdicts) } : null,
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [usagePoints, d, chartTheme, period, names]);

  const agentName = agent ? (d?.agents.find((a) => a.id === agent)?.displayName ?? agent) : null;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Dashboard</h1>
          <p>
            {agentName ? `${agentName} · ` : 'All agents · '}
            {formatDateTime(period.from.toISOString())} – {formatDateTime(period.to.toISOString())}
          </p>
        </div>
        <div className="row wrap">
          {agent ? (
            <button type="button" className="btn btn-sm" onClick={() => set({ agent: null })}>
              {agentName} ✕
            </button>
          ) : null}
          <div className="segmented" role="group" aria-label="Period" data-testid="period-picker">
            {(Object.keys(PRESETS) as Array<keyof typeof PRESETS>).map((k) => (
              <button
                type="button"
                key={k}
                aria-pressed={period.key === k}
                onClick={() => set({ period: k === '7d' ? null : k, from: null, to: null })}
              >
                {PRESETS[k].label}
              </button>
            ))}
            <button
              type="button"
              aria-pressed={period.key === 'custom'}
              onClick={() =>
                set({
                  period: 'custom',
                  from: toDayParam(period.from),
                  to: toDayParam(new Date(period.to.getTime() - 1)),
                })
              }
            >
              Custom
            </button>
          </div>
          {period.key === ('custom' as PeriodKey) ? (
            <>
              <input
                type="date"
                className="input"
                aria-label="From"
                value={params.get('from') ?? ''}
                onChange={(e) => set({ from: e.target.value })}
              />
              <input
                type="date"
                className="input"
                aria-label="To"
                value={params.get('to') ?? ''}
                onChange={(e) => set({ to: e.target.value })}
              />
            </>
          ) : null}
        </div>
      </div>

      {overview.error ? <ErrorBanner error={overview.error} /> : null}

      <div className="kpis" data-testid="kpis">
        <Kpi label="Sessions" value={s ? formatInteger(s.sessionCount) : null} />
        <Kpi label="Runs" value={s ? formatInteger(s.runCount) : null} sub={s?.failedRuns ? `${formatInteger(s.failedRuns)} failed` : undefined} />
        <Kpi label="Tokens" value={s ? formatTokens(s.totalTokens) : null} />
        <Kpi label="Cost" value={s ? formatUSD(s.cost) : null} sub={s?.heartbeatCost ? `${formatUSD(s.heartbeatCost)} on heartbeats` : undefined} />
        <Kpi
          label={
            <>
              <Term name="runDuration" /> p50
            </>
          }
          value={s ? formatDuration(s.durationP50Ms) : null}
          sub={s ? `p95 ${formatDuration(s.durationP95Ms)}` : undefined}
        />
        <Kpi
          label="Success rate"
          value={s ? formatPercent(s.reviewCount > 0 ? s.successRate : null) : null}
          sub={s ? <Sample n={s.reviewCount} /> : undefined}
        />
      </div>

      <section className="card" aria-labelledby="agents-h">
        <div className="card-head">
          <h2 id="agents-h">Agents</h2>
          <span className="muted">Select an agent to filter the charts</span>
        </div>
        <AgentTable
          agents={d?.agents ?? null}
          selected={agent}
          onSelect={(id) => set({ agent: id === agent ? null : id })}
          chartTheme={chartTheme}
        />
        <StatusLegend />
      </section>

      <div className="charts">
        <ChartCard
          title="Cost over time"
          chart={charts.cost}
          testId="chart-cost"
          actions={<GroupToggle value={groupBy} onChange={(g) => set({ by: g === 'MODEL' ? 'model' : null })} />}
        />
        <ChartCard
          title="Tokens over time"
          chart={charts.tokens}
          testId="chart-tokens"
          actions={<span className="muted">by {groupBy.toLowerCase()}</span>}
        />
        <ChartCard title={`Runs per ${period.bucket.toLowerCase()} by trigger`} chart={charts.triggers} testId="chart-triggers" />
        <ChartCard title="Run duration distribution" chart={charts.durations} testId="chart-durations" />
        <ChartCard title="Verdict mix over time" chart={charts.verdicts} testId="chart-verdicts" emptyText="No reviews in this period" />
      </div>

      <ToolErrorPanel from={base.from} to={base.to} agent={agent} />
    </>
  );
}

/** The most frequent tool errors of the window (of the selected agent), linking to the Tools page. */
function ToolErrorPanel({ from, to, agent }: { from: string; to: string; agent: string | null }) {
  const [result] = useQuery({
    query: ToolErrorsQuery,
    variables: { from, to, tool: null, filter: agent ? { agentIds: [agent] } : null, first: 5 },
  });
  const toolsHref = (g?: { id: string; tool: string }) => {
    const q = new URLSearchParams();
    const here = new URLSearchParams(window.location.search);
    for (const k of ['period', 'from', 'to', 'agent']) {
      const v = here.get(k);
      if (v) q.set(k, v);
    }
    if (g) {
      q.set('tool', g.tool);
      q.set('group', g.id);
    }
    return `/tools?${q.toString()}`;
  };
  return (
    <section className="card" aria-labelledby="tool-errors-panel-h" style={{ marginTop: 16 }} data-testid="tool-error-panel">
      <div className="card-head">
        <h2 id="tool-errors-panel-h">Tool errors</h2>
        <Link href={toolsHref()}>All tools</Link>
      </div>
      {result.error ? <ErrorBanner error={result.error} /> : null}
      <ErrorGroupTable groups={result.data?.toolErrors ?? null} hrefFor={toolsHref} />
    </section>
  );
}

function Kpi({ label, value, sub }: { label: ReactNode; value: string | null; sub?: ReactNode }) {
  return (
    <div className="card kpi">
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value ?? <span className="skeleton" style={{ width: '60%', height: 22, marginTop: 4 }} />}</div>
      <div className="stat-sub">{sub ?? ' '}</div>
    </div>
  );
}

function GroupToggle({ value, onChange }: { value: GroupBy; onChange: (g: GroupBy) => void }) {
  return (
    <div className="segmented" role="group" aria-label="Stack by">
      {(['AGENT', 'MODEL'] as const).map((g) => (
        <button type="button" key={g} aria-pressed={value === g} onClick={() => onChange(g)}>
          By {g.toLowerCase()}
        </button>
      ))}
    </div>
  );
}

function ChartCard({
  title,
  chart,
  actions,
  testId,
  emptyText = 'No runs in this period',
}: {
  title: string;
  chart: { option: ChartOption; empty: boolean } | null;
  actions?: ReactNode;
  testId: string;
  emptyText?: string;
}) {
  return (
    <section className="card chart-card" aria-label={title}>
      <div className="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      <div className="chart-box" data-testid={testId} data-state={chart ? (chart.empty ? 'empty' : 'ready') : 'loading'}>
        {chart && !chart.empty ? <EChart option={chart.option} label={title} /> : null}
        {!chart ? (
          <div className="chart-overlay" aria-busy="true">
            Loading…
          </div>
        ) : chart.empty ? (
          <div className="chart-overlay">{emptyText}</div>
        ) : null}
      </div>
    </section>
  );
}

const STATUS_COLORS: Record<SessionStatus, string> = {
  PENDING: '#9aa3b5',
  RUNNING: '#2563eb',
  COMPLETED: '#22a06b',
  FAILED: '#de4a3b',
  ARCHIVED: '#64748b',
};

type AgentRow = DashboardResult['agents'][number];

/** What the colours of the "Sessions by status" bars mean. */
function StatusLegend() {
  return (
    <div className="legend card-pad" data-testid="status-legend" aria-label="Session status colours">
      {(Object.keys(STATUS_COLORS) as SessionStatus[]).map((st) => (
        <span key={st} className="legend-item">
          <span className="legend-swatch" style={{ background: STATUS_COLORS[st] }} />
          {label(st)}
        </span>
      ))}
    </div>
  );
}

function AgentTable({
  agents,
  selected,
  onSelect,
  chartTheme,
}: {
  agents: AgentRow[] | null;
  selected: string | null;
  onSelect: (id: string) => void;
  /** The swatch is the agent's colour in every chart. */
  chartTheme: ChartTheme;
}) {
  return (
    <div className="table-wrap">
      <table className="data" data-testid="agents-table">
        <colgroup>
          <col style={{ width: '180px' }} />
          <col style={{ width: '220px' }} />
          <col style={{ width: '80px' }} />
          <col style={{ width: '80px' }} />
          <col style={{ width: '90px' }} />
          <col style={{ width: '90px' }} />
          <col style={{ width: '90px' }} />
          <col style={{ width: '90px' }} />
          <col style={{ width: '150px' }} />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Sessions by status</th>
            <th scope="col" className="num">Sessions</th>
            <th scope="col" className="num">Runs</th>
            <th scope="col" className="num">Tokens</th>
            <th scope="col" className="num">Cost</th>
            <th scope="col" className="num" title={TERMS.runDuration.definition}>
              p50
            </th>
            <th scope="col" className="num" title={TERMS.runDuration.definition}>
              p95
            </th>
            <th scope="col" className="num">Success</th>
          </tr>
        </thead>
        <tbody>
          {agents === null ? (
            <tr>
              <td colSpan={9} className="muted">
                Loading…
              </td>
            </tr>
          ) : null}
          {agents?.map((a) => {
            const m = a.metrics;
            const total = m.sessionsByStatus.reduce((n, x) => n + x.count, 0);
            return (
              <tr key={a.id} aria-selected={selected === a.id} style={selected === a.id ? { background: 'var(--accent-soft)' } : undefined}>
                <td>
                  <button type="button" className="row-link" style={{ all: 'unset', cursor: 'pointer', fontWeight: 500 }} onClick={() => onSelect(a.id)}>
                    <span className="legend-swatch" style={{ background: colorOf(a.id, chartTheme), marginRight: 8 }} aria-hidden="true" />
                    {a.displayName ?? a.id}
                  </button>
                </td>
                <td>
                  <div
                    className="status-bar"
                    role="img"
                    aria-label={m.sessionsByStatus.map((x) => `${x.count} ${x.status.toLowerCase()}`).join(', ') || 'no sessions'}
                  >
                    {m.sessionsByStatus.map((x) => (
                      <span
                        key={x.status}
                        title={`${label(x.status)}: ${x.count}`}
                        style={{ width: `${(x.count / Math.max(1, total)) * 100}%`, background: STATUS_COLORS[x.status] }}
                      />
                    ))}
                  </div>
                </td>
                <td className="num">{formatInteger(m.sessionCount)}</td>
                <td className="num">{formatInteger(m.runCount)}</td>
                <td className="num">{formatTokens(m.totalTokens)}</td>
                <td className="num">{formatUSD(m.cost)}</td>
                <td className="num">{formatDuration(m.durationP50Ms)}</td>
                <td className="num">{formatDuration(m.durationP95Ms)}</td>
                <td className="num">
                  <Rate value={m.successRate} n={m.reviewCount} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
