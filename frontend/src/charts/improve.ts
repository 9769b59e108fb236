// Pure chart builders for the Improve page: a dot-and-whisker chart of period deltas with
// their 95% intervals, and judge-vs-human agreement over time. API data in, ECharts option out.

import type { TooltipComponentOption } from 'echarts/components';
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, CustomSeriesRenderItemReturn } from 'echarts';
import { formatPercent } from '../lib/format';
import {
  VERDICT_TEXT,
  formatCi,
  formatDelta,
  formatP,
  formatRelativeDelta,
  formatValue,
  type ComparisonRow,
  type Verdict,
} from '../lib/compare';
import { baseOption, groupColors, type ChartOption, type ChartTheme } from './options';

export const CHANGE_COLORS: Record<Verdict, string> = {
  better: '#22a06b',
  worse: '#de4a3b',
  noise: '#8a93a6',
  untested: '#b8bfcc',
  'no-data': '#b8bfcc',
};

/** `relative`: change as a share of the "before" value (mixes metrics); `absolute`: in the metric's unit. */
export type DeltaScale = 'relative' | 'absolute';

export interface WhiskerRow {
  key: string;
  label: string;
  verdict: Verdict;
  /** Point estimate on the chart's scale (null: cannot be drawn on it). */
  value: number | null;
  low: number | null;
  high: number | null;
  tooltip: string;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/**
 * Comparison rows → chart rows. On the relative scale a row needs a non-zero "before" value;
 * ratios on the absolute scale are drawn in percentage points. Rows that cannot be placed are
 * kept with `value: null` (the table still lists them; the chart skips them).
 */
export function whiskerRows(rows: readonly ComparisonRow[], scale: DeltaScale, labelOf: (r: ComparisonRow) => string): WhiskerRow[] {
  return rows.map((r) => {
    let value: number | null = null;
    let low: number | null = null;
    let high: number | null = null;
    if (scale === 'relative') {
      const base = r.a !== null && r.a !== 0 ? Math.abs(r.a) : null;
      if (base !== null && r.delta !== null) {
        value = r.delta / base;
        low = r.ciLow !== null ? r.ciLow / base : null;
        high = r.ciHigh !== null ? r.ciHigh / base : null;
      }
    } else {
      const k = r.unit === 'ratio' ? 100 : 1;
      value = r.delta !== null ? r.delta * k : null;
      low = r.ciLow !== null ? r.ciLow * k : null;
      high = r.ciHigh !== null ? r.ciHigh * k : null;
    }
    const lines = [
      `<strong>${escapeHtml(labelOf(r))}</strong>`,
      `${formatValue(r.unit, r.a)} → ${formatValue(r.unit, r.b)} (${formatDelta(r.unit, r.delta)}, ${formatRelativeDelta(r.relativeDelta)})`,
      `95% CI of the change: ${formatCi(r.unit, r.ciLow, r.ciHigh)}`,
      `n = ${r.nA} → ${r.nB} · ${escapeHtml(r.method)} · adjusted p ${formatP(r.pAdjusted)}`,
      `<em>${VERDICT_TEXT[r.verdict]}</em>`,
    ];
    return { key: r.key, label: labelOf(r), verdict: r.verdict, value, low, high, tooltip: lines.join('<br/>') };
  });
}

export function isEmptyWhiskers(rows: readonly WhiskerRow[]): boolean {
  return rows.every((r) => r.value === null);
}

/** The x-axis range: every interval and point, symmetric around 0 so left/right read fairly. */
export function whiskerExtent(rows: readonly WhiskerRow[]): number {
  let m = 0;
  for (const r of rows) {
    for (const v of [r.value, r.low, r.high]) if (v !== null && Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  }
  if (m === 0) return 1;
  // A readable round bound a little beyond the data (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k).
  const target = m * 1.05;
  const mag = 10 ** Math.floor(Math.log10(target));
  const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((f) => f * mag >= target - 1e-12) ?? 10;
  return Number((step * mag).toPrecision(6));
}

/** Draws one interval: a horizontal line with end caps, in the data item's colour. */
export function renderWhisker(params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): CustomSeriesRenderItemReturn {
  const low = api.coord([api.value(0), api.value(2)]);
  const high = api.coord([api.value(1), api.value(2)]);
  const size = api.size?.([0, 1]);
  const band = Array.isArray(size) ? (size[1] ?? 20) : 20;
  const cap = Math.max(4, Math.min(10, band * 0.25));
  const style = { stroke: (api.visual('color') as string) ?? '#888', lineWidth: 2 };
  const x0 = low[0] ?? 0;
  const x1 = high[0] ?? 0;
  const y = low[1] ?? 0;
  void params;
  return {
    type: 'group',
    children: [
      { type: 'line', shape: { x1: x0, y1: y, x2: x1, y2: y }, style },
      { type: 'line', shape: { x1: x0, y1: y - cap / 2, x2: x0, y2: y + cap / 2 }, style },
      { type: 'line', shape: { x1: x1, y1: y - cap / 2, x2: x1, y2: y + cap / 2 }, style },
    ],
  };
}

/**
 * Dot-and-whisker: one row per comparison, the point estimate of the change as a dot and its
 * 95% interval as a whisker, a dashed line at "no change". Only significant changes get
 * colour (green better, red worse); everything else is grey, and rows without a test show a
 * hollow dot and no whisker — noise is never drawn as progress.
 */
export function deltaWhiskers(rows: readonly WhiskerRow[], scale: DeltaScale, unit: string, theme: ChartTheme): ChartOption {
  const drawn = rows.filter((r) => r.value !== null);
  const labels = drawn.map((r) => r.label);
  const extent = whiskerExtent(drawn);
  const axisFmt = (v: number): string => {
    if (Math.abs(v) < 1e-12) return '0';
    if (scale === 'relative') return formatRelativeDelta(v);
    if (unit === 'ratio') return `${v > 0 ? '+' : ''}${Math.round(v * 10) / 10} pp`;
    return formatDelta(unit, v);
  };
  const base = baseOption(theme);
  return {
    ...base,
    legend: { show: false },
    grid: { left: 8, right: 24, top: 12, bottom: 8, containLabel: true },
    tooltip: {
      ...(base.tooltip as TooltipComponentOption),
      trigger: 'item',
      axisPointer: undefined,
      formatter: (p: unknown) => {
        const i = (p as { dataIndex?: number }).dataIndex ?? -1;
        return drawn[i]?.tooltip ?? '';
      },
    },
    xAxis: {
      type: 'value',
      min: -extent,
      max: extent,
      splitLine: { lineStyle: { color: theme.grid } },
      axisLabel: { color: theme.muted, formatter: (v: number) => axisFmt(v), hideOverlap: true },
    },
    yAxis: {
      type: 'category',
      data: labels,
      inverse: true,
      axisLine: { show: false },
      axisTick: { show: false },
      axisLabel: { color: theme.text, width: 200, overflow: 'truncate', fontSize: 12.5 },
      splitLine: { show: true, lineStyle: { color: theme.grid, type: 'dotted' } },
    },
    series: [
      {
        name: '95% interval',
        type: 'custom',
        renderItem: renderWhisker,
        encode: { x: [0, 1], y: 2 },
        z: 2,
        data: drawn.flatMap((r, i) =>
          r.low !== null && r.high !== null
            ? [{ value: [r.low, r.high, i], itemStyle: { color: CHANGE_COLORS[r.verdict] } }]
            : [],
        ),
        tooltip: { show: false },
      },
      {
        name: 'Change',
        type: 'scatter',
        z: 3,
        symbolSize: 11,
        data: drawn.map((r, i) => ({
          value: [r.value as number, i],
          symbol: r.verdict === 'untested' ? 'emptyCircle' : 'circle',
          itemStyle: {
            // A hollow dot: filled with the chart background in either theme.
            color: r.verdict === 'untested' ? theme.background : CHANGE_COLORS[r.verdict],
            borderColor: r.verdict === 'untested' ? CHANGE_COLORS.noise : CHANGE_COLORS[r.verdict],
            borderWidth: r.verdict === 'untested' ? 2 : 0,
          },
        })),
        markLine: {
          silent: true,
          symbol: 'none',
          label: { show: false },
          lineStyle: { color: theme.muted, type: 'dashed', width: 1 },
          data: [{ xAxis: 0 }],
        },
      },
    ],
  };
}

/** Chart height for `n` rows, so rows keep a readable band whatever the count. */
export function whiskerHeight(n: number): number {
  return Math.max(160, 40 + n * 34);
}

// ---------------------------------------------------------------------------------------------
// Judge vs human agreement over time

export interface AgreementPointIn {
  bucket: string;
  reviewerModel: string;
  stats: { pairs: number; verdictMatches: number; agreementRate: number | null; meanAbsRatingDiff: number | null };
}

export function isEmptyAgreement(points: readonly AgreementPointIn[]): boolean {
  return points.every((p) => p.stats.pairs === 0 || p.stats.agreementRate === null);
}

/** One line per reviewer model: share of verdicts that match the human's; dot size ~ pairs. */
export function agreementOverTime(
  points: readonly AgreementPointIn[],
  theme: ChartTheme,
  window?: { from: Date; to: Date },
): ChartOption {
  const models = [...new Set(points.map((p) => p.reviewerModel))].sort((a, b) => a.localeCompare(b));
  const colors = groupColors(models, theme);
  const base = baseOption(theme);
  const maxPairs = Math.max(1, ...points.map((p) => p.stats.pairs));
  return {
    ...base,
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    tooltip: {
      ...(base.tooltip as TooltipComponentOption),
      trigger: 'item',
      axisPointer: undefined,
      formatter: (p: unknown) => {
        const d = p as { seriesName?: string; value?: [number, number | null, number, number, number | null] };
        const v = d.value;
        if (!v) return '';
        const day = new Date(v[0]).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
        const diff = v[4] === null ? '' : ` · mean |Δ rating| ${v[4].toFixed(2)}`;
        return `<strong>${escapeHtml(d.seriesName ?? '')}</strong> · ${day}<br/>${formatPercent(v[1])} agreement (${v[3]} of ${v[2]} verdicts)${diff}`;
      },
    },
    xAxis: {
      type: 'time',
      // The whole window, so a lone point sits where it belongs in time.
      ...(window ? { min: window.from.getTime(), max: window.to.getTime() } : {}),
      axisLine: { lineStyle: { color: theme.grid } },
      axisLabel: { color: theme.muted, hideOverlap: true },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      min: 0,
      max: 1,
      splitLine: { lineStyle: { color: theme.grid } },
      axisLabel: { color: theme.muted, formatter: (v: number) => formatPercent(v) },
    },
    series: models.map((m) => ({
      name: m,
      type: 'line' as const,
      connectNulls: true,
      showAllSymbol: true,
      symbol: 'circle',
      itemStyle: { color: colors[m] ?? theme.muted },
      lineStyle: { width: 2 },
      symbolSize: (v: unknown) => {
        const pairs = Array.isArray(v) ? Number(v[2]) : 0;
        return 6 + 10 * Math.sqrt(pairs / maxPairs);
      },
      data: points
        .filter((p) => p.reviewerModel === m && p.stats.pairs > 0)
        .map((p) => [Date.parse(p.bucket), p.stats.agreementRate, p.stats.pairs, p.stats.verdictMatches, p.stats.meanAbsRatingDiff])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
    })),
  };
}
