// "What changed": comparePeriods between the two windows, overall or per agent/kind/model/
// trigger, as a dot-and-whisker chart of the changes with their 95% intervals and a table.
import { useMemo } from 'react';
import { useQuery } from 'urql';
import { ComparePeriodsQuery } from '../../api/operations';
import type { MetricGroupBy } from '../../gql/graphql';
import { useTheme } from '../../app/theme';
import { EChart } from '../../charts/EChart';
import { deltaWhiskers, isEmptyWhiskers, whiskerHeight, whiskerRows, type DeltaScale } from '../../charts/improve';
import { DARK_THEME, LIGHT_THEME } from '../../charts/options';
import { ErrorBanner } from '../../components/States';
import { comparisonRows, summarize, type Windows } from '../../lib/compare';
import { ChangeLegend, ComparisonTable } from './ComparisonTable';

export const GROUPS = ['', 'agent', 'kind', 'model', 'trigger'] as const;
export type GroupBy = (typeof GROUPS)[number];
const GROUP_LABEL: Record<GroupBy, string> = { '': 'Overall', agent: 'Agent', kind: 'Kind', model: 'Model', trigger: 'Trigger' };

export function ChangesSection({
  windows,
  groupBy,
  metric,
  onGroupBy,
  onMetric,
}: {
  windows: Windows;
  groupBy: GroupBy;
  metric: string | null;
  onGroupBy: (g: GroupBy) => void;
  onMetric: (m: string) => void;
}) {
  const [theme] = useTheme();
  const chartTheme = theme === 'dark' ? DARK_THEME : LIGHT_THEME;
  const variables = useMemo(
    () => ({
      aFrom: windows.a.from.toISOString(),
      aTo: windows.a.to.toISOString(),
      bFrom: windows.b.from.toISOString(),
      bTo: windows.b.to.toISOString(),
      groupBy: groupBy ? (groupBy.toUpperCase() as MetricGroupBy) : null,
    }),
    [windows, groupBy],
  );
  const [result] = useQuery({ query: ComparePeriodsQuery, variables });
  const cmp = result.data?.comparePeriods;
  const rows = useMemo(() => (cmp ? comparisonRows(cmp.groups) : []), [cmp]);
  const summary = cmp ? summarize(rows, cmp.alpha) : null;

  // Overall: every metric, as a share of its "before" value. Grouped: one metric across
  // groups, in its own unit (so the groups are directly comparable).
  const metrics = useMemo(() => {
    const seen = new Map<string, string>();
    for (const r of rows) if (!seen.has(r.metric)) seen.set(r.metric, r.label);
    return [...seen.entries()];
  }, [rows]);
  const chartMetric = groupBy ? (metrics.some(([m]) => m === metric) ? metric : (metrics[0]?.[0] ?? null)) : null;
  const scale: DeltaScale = groupBy ? 'absolute' : 'relative';
  const chartRows = groupBy ? rows.filter((r) => r.metric === chartMetric) : rows;
  const unit = groupBy ? (chartRows[0]?.unit ?? '') : 'mixed';
  const chart = useMemo(() => {
    const w = whiskerRows(chartRows, scale, (r) => (groupBy ? (r.group ?? 'All') : r.label));
    return { option: deltaWhiskers(w, scale, unit, chartTheme), empty: isEmptyWhiskers(w), n: w.filter((r) => r.value !== null).length };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rows, chartMetric, groupBy, chartTheme]);

  const tone = !summary ? 'info' : summary.worse ? 'warn' : summary.better ? 'ok' : 'info';

  return (
    <section className="card improve-section" id="changes" aria-labelledby="changes-h">
      <div className="card-head">
        <h2 id="changes-h">What changed</h2>
        <div className="segmented" role="group" aria-label="Group by" data-testid="group-by">
          {GROUPS.map((g) => (
            <button type="button" key={g || 'all'} aria-pressed={groupBy === g} onClick={() => onGroupBy(g)}>
              {GROUP_LABEL[g]}
            </button>
          ))}
        </div>
      </div>
      <div className="card-pad stack">
        {result.error ? <ErrorBanner error={result.error} /> : null}
        {summary ? (
          <div className={`banner banner-block ${tone}`} data-testid="compare-summary" role="status">
            {summary.text}{' '}
            <span className="muted">
              Intervals are 95%; significance is Holm-corrected over all {cmp?.tests ?? 0} tests, so looking at many metrics and
              groups does not manufacture a “win”.
            </span>
          </div>
        ) : null}

        <div className="row wrap" style={{ justifyContent: 'space-between' }}>
          <ChangeLegend />
          {groupBy ? (
            <label className="row" style={{ gap: 8 }}>
              <span className="field-label">Chart metric</span>
              <select className="select" value={chartMetric ?? ''} onChange={(e) => onMetric(e.target.value)} aria-label="Chart metric">
                {metrics.map(([m, l]) => (
                  <option key={m} value={m}>
                    {l}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <span className="muted" style={{ fontSize: 12 }}>
              Change relative to the before value
            </span>
          )}
        </div>
        <div
          className="chart-box whisker-box"
          data-testid="chart-compare"
          data-state={!cmp ? 'loading' : chart.empty ? 'empty' : 'ready'}
          style={{ height: cmp && !chart.empty ? whiskerHeight(chart.n) : 160 }}
        >
          {cmp && !chart.empty ? <EChart option={chart.option} label="Changes between the two periods with 95% intervals" /> : null}
          {!cmp ? (
            <div className="chart-overlay" aria-busy="true">
              Comparing…
            </div>
          ) : chart.empty ? (
            <div className="chart-overlay">No metric has a value in both windows</div>
          ) : null}
        </div>

        {cmp ? (
          <ComparisonTable rows={rows} showGroup={groupBy !== ''} groupLabel={GROUP_LABEL[groupBy]} testId="compare-table" />
        ) : null}
      </div>
    </section>
  );
}
