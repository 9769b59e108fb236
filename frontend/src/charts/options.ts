// Pure functions: API data in, ECharts options out. No DOM, no echarts runtime — only types —
// so they are unit-tested in Node and the chart component stays a thin shell.

import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, CustomSeriesOption, LineSeriesOption, ScatterSeriesOption } from 'echarts/charts';
import type {
  GridComponentOption,
  LegendComponentOption,
  MarkLineComponentOption,
  TooltipComponentOption,
  DataZoomComponentOption,
} from 'echarts/components';
import { EMPTY, formatDuration, formatInteger, formatPercent, formatTokens, formatUSD } from '../lib/format';
import { bucketRange, bucketStart, type Bucket } from '../lib/period';

// Types only: the scatter/custom series and mark lines are registered (and bundled) by the
// Improve page alone (charts/improve.ts), not by the dashboard.
export type ChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | ScatterSeriesOption
  | CustomSeriesOption
  | MarkLineComponentOption
  | GridComponentOption
  | LegendComponentOption
  | TooltipComponentOption
  | DataZoomComponentOption
>;

export interface ChartTheme {
  text: string;
  muted: string;
  grid: string;
  background: string;
  palette: string[];
}

export const LIGHT_THEME: ChartTheme = {
  text: '#1f2430',
  muted: '#6b7280',
  grid: '#e6e8ee',
  background: '#ffffff',
  palette: ['#4f6bed', '#16a394', '#e08a1e', '#d9487a', '#8b5cf6', '#0ea5e9', '#84a31a', '#a16207', '#c2410c', '#0f766e', '#be185d', '#e11d48'],
};

export const DARK_THEME: ChartTheme = {
  text: '#e5e7ee',
  muted: '#9aa3b5',
  grid: '#2a3040',
  background: '#161a23',
  palette: ['#7b93ff', '#2dd4bf', '#f4a340', '#f472a6', '#a78bfa', '#38bdf8', '#a3c93a', '#d4a72c', '#fb923c', '#5eead4', '#f9a8d4', '#fb7185'],
};

export type VerdictName = 'ACCOMPLISHED' | 'PARTIAL' | 'FAILED' | 'UNCLEAR';
export const VERDICT_ORDER: VerdictName[] = ['ACCOMPLISHED', 'PARTIAL', 'FAILED', 'UNCLEAR'];
export const VERDICT_COLORS: Record<VerdictName, string> = {
  ACCOMPLISHED: '#22a06b',
  PARTIAL: '#e2a417',
  FAILED: '#de4a3b',
  UNCLEAR: '#8a93a6',
};

/** A metric point as the API returns it (`metricSeries.points`). */
export interface SeriesPoint {
  bucketStart: string;
  group: string;
  runCount: number;
  totalTokens: number | null;
  cost: string | null;
}

export interface Window {
  from: Date;
  to: Date;
  bucket: Bucket;
}

export type Metric = 'cost' | 'totalTokens' | 'runCount';

/** The point's value, or null when the provider did not report it (never a made-up zero). */
function valueOf(p: SeriesPoint, metric: Metric): number | null {
  const v = metric === 'cost' ? p.cost : metric === 'totalTokens' ? p.totalTokens : p.runCount;
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * A tooltip value: ECharts hands a null bar over as null, undefined or '-', and Number(null) is
 * 0 — which is how "orion $0" appeared for an agent whose cost was never reported.
 */
export function tooltipValue(v: unknown, fmt: (n: number) => string): string {
  if (v === null || v === undefined || v === '' || v === '-') return EMPTY;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? fmt(n) : EMPTY;
}

export function formatMetric(metric: Metric, value: number, opts: { axis?: boolean } = {}): string {
  if (metric === 'cost') return formatUSD(value, { compact: opts.axis ?? false });
  if (metric === 'totalTokens') return formatTokens(value);
  return formatInteger(value);
}

export function bucketLabel(t: number, bucket: Bucket): string {
  const d = new Date(t);
  const month = d.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const day = d.getUTCDate();
  if (bucket === 'HOUR') {
    const hh = String(d.getUTCHours()).padStart(2, '0');
    return `${month} ${day} ${hh}:00`;
  }
  return `${month} ${day}`;
}

export interface StackedMatrix {
  buckets: number[];
  groups: string[];
  /** values[g][b]; null where nothing was reported (no runs, or runs without this figure). */
  values: Array<Array<number | null>>;
}

/**
 * Points → a dense groups × buckets matrix over every bucket in the window (missing or
 * unreported = null, summed over what was reported),
 * groups ordered by their total, largest first, so the biggest contributor sits at the bottom
 * of the stack and first in the legend. Beyond `maxGroups` the tail is folded into "other".
 */
export function toMatrix(points: SeriesPoint[], win: Window, metric: Metric, maxGroups = 8): StackedMatrix {
  const buckets = bucketRange(win.from, win.to, win.bucket);
  const index = new Map(buckets.map((t, i) => [t, i]));
  const totals = new Map<string, number>();
  const rows = new Map<string, Array<number | null>>();
  const add = (row: Array<number | null>, i: number, v: number | null) => {
    if (v !== null) row[i] = (row[i] ?? 0) + v;
  };
  for (const p of points) {
    const t = bucketStart(Date.parse(p.bucketStart), win.bucket);
    const i = index.get(t);
    if (i === undefined) continue;
    const v = valueOf(p, metric);
    let row = rows.get(p.group);
    if (!row) {
      row = new Array<number | null>(buckets.length).fill(null);
      rows.set(p.group, row);
    }
    add(row, i, v);
    totals.set(p.group, (totals.get(p.group) ?? 0) + (v ?? 0));
  }
  let groups = [...rows.keys()].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b));
  if (groups.length > maxGroups) {
    const keep = groups.slice(0, maxGroups - 1);
    const other = new Array<number | null>(buckets.length).fill(null);
    for (const g of groups.slice(maxGroups - 1)) {
      rows.get(g)?.forEach((v, i) => add(other, i, v));
    }
    rows.set('other', other);
    groups = [...keep, 'other'];
  }
  return { buckets, groups, values: groups.map((g) => rows.get(g) ?? []) };
}

export function isEmptyMatrix(m: StackedMatrix): boolean {
  return m.values.every((row) => row.every((v) => v === null || v === 0));
}

export function baseOption(theme: ChartTheme): ChartOption {
  return {
    animation: true,
    color: theme.palette,
    textStyle: { color: theme.text, fontFamily: 'inherit' },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      axisPointer: { type: 'shadow' },
      backgroundColor: theme.background,
      borderColor: theme.grid,
      textStyle: { color: theme.text },
      confine: true,
    },
    legend: { top: 0, left: 0, type: 'scroll', textStyle: { color: theme.muted }, icon: 'roundRect', itemWidth: 10, itemHeight: 10 },
  };
}

function categoryAxis(labels: string[], theme: ChartTheme) {
  return {
    type: 'category' as const,
    data: labels,
    axisLine: { lineStyle: { color: theme.grid } },
    axisTick: { show: false },
    axisLabel: { color: theme.muted, hideOverlap: true },
    // Buckets are UTC days/hours (the API aligns them so): say so.
    name: 'UTC',
    nameLocation: 'end' as const,
    nameTextStyle: { color: theme.muted, fontSize: 11 },
  };
}

function valueAxis(theme: ChartTheme, fmt: (v: number) => string) {
  return {
    type: 'value' as const,
    splitLine: { lineStyle: { color: theme.grid } },
    axisLabel: { color: theme.muted, formatter: (v: number) => fmt(v) },
  };
}

/** FNV-1a: a small stable string hash (same name, same number, in every browser). */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * One fixed colour per agent or model: it depends on the name alone — not on which other groups
 * are shown, their order or a filter — so "sofia" has the same colour in every chart, filtered or
 * not. The folded tail is grey.
 */
export function colorOf(name: string, theme: ChartTheme): string {
  if (name === 'other') return theme.muted;
  return theme.palette[hash(name) % theme.palette.length] ?? theme.muted;
}

export function groupColors(groups: string[], theme: ChartTheme): Record<string, string> {
  return Object.fromEntries(groups.map((g) => [g, colorOf(g, theme)]));
}

/** Cost or tokens over time, stacked by group (agent or model). */
export function stackedOverTime(
  points: SeriesPoint[],
  win: Window,
  metric: Metric,
  theme: ChartTheme,
  /** Legend and tooltip names by group id (agents' display names); the id otherwise. */
  names: Record<string, string> = {},
): ChartOption {
  const m = toMatrix(points, win, metric);
  const labels = m.buckets.map((t) => bucketLabel(t, win.bucket));
  const fmt = (v: number) => formatMetric(metric, v);
  const colors = groupColors(m.groups, theme);
  return {
    ...baseOption(theme),
    tooltip: {
      ...(baseOption(theme).tooltip as TooltipComponentOption),
      valueFormatter: (v) => tooltipValue(v, fmt),
    },
    xAxis: categoryAxis(labels, theme),
    yAxis: valueAxis(theme, (v) => formatMetric(metric, v, { axis: true })),
    series: m.groups.map((g, i) => ({
      name: names[g] ?? g,
      type: 'bar' as const,
      stack: 'total',
      barMaxWidth: 28,
      emphasis: { focus: 'series' as const },
      itemStyle: { color: colors[g] ?? theme.muted },
      data: m.values[i] ?? [],
    })),
  };
}

/** Runs per bucket, stacked by trigger (points grouped by TRIGGER). */
export function runsByTrigger(points: SeriesPoint[], win: Window, theme: ChartTheme): ChartOption {
  return stackedOverTime(points, win, 'runCount', theme);
}

export interface HistogramBucket {
  lowerMs: number;
  upperMs: number | null;
  count: number;
}

export function histogramLabel(b: HistogramBucket): string {
  if (b.upperMs === null) return `≥ ${formatDuration(b.lowerMs)}`;
  if (b.lowerMs === 0) return `< ${formatDuration(b.upperMs)}`;
  return `${formatDuration(b.lowerMs)} – ${formatDuration(b.upperMs)}`;
}

/** Run-duration distribution as bars over the API's (log-spaced) buckets. */
export function durationDistribution(buckets: HistogramBucket[], theme: ChartTheme): ChartOption {
  const sorted = [...buckets].sort((a, b) => a.lowerMs - b.lowerMs);
  return {
    ...baseOption(theme),
    legend: { show: false },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: {
      ...(baseOption(theme).tooltip as TooltipComponentOption),
      valueFormatter: (v) => tooltipValue(v, (n) => `${formatInteger(n)} runs`),
    },
    xAxis: categoryAxis(sorted.map(histogramLabel), theme),
    yAxis: valueAxis(theme, (v) => formatInteger(v)),
    series: [
      {
        name: 'Runs',
        type: 'bar',
        barCategoryGap: '12%',
        itemStyle: { color: theme.palette[0] ?? '#4f6bed', borderRadius: [3, 3, 0, 0] },
        data: sorted.map((b) => b.count),
      },
    ],
  };
}

export function isEmptyHistogram(buckets: HistogramBucket[]): boolean {
  return buckets.every((b) => b.count === 0);
}

export interface VerdictPoint {
  bucketStart: string;
  verdict: VerdictName;
  count: number;
}

export interface VerdictMatrix {
  buckets: number[];
  counts: Record<VerdictName, number[]>;
  totals: number[];
}

export function toVerdictMatrix(points: VerdictPoint[], win: Window): VerdictMatrix {
  const buckets = bucketRange(win.from, win.to, win.bucket);
  const index = new Map(buckets.map((t, i) => [t, i]));
  const zero = () => new Array<number>(buckets.length).fill(0);
  const counts: Record<VerdictName, number[]> = {
    ACCOMPLISHED: zero(),
    PARTIAL: zero(),
    FAILED: zero(),
    UNCLEAR: zero(),
  };
  const totals = zero();
  for (const p of points) {
    const i = index.get(bucketStart(Date.parse(p.bucketStart), win.bucket));
    const row = counts[p.verdict];
    if (i === undefined || !row) continue;
    row[i] = (row[i] ?? 0) + p.count;
    totals[i] = (totals[i] ?? 0) + p.count;
  }
  return { buckets, counts, totals };
}

/** Verdict mix per bucket as 100 % stacked bars (share of reviews); tooltips give counts too. */
export function verdictMix(points: VerdictPoint[], win: Window, theme: ChartTheme): ChartOption {
  const m = toVerdictMatrix(points, win);
  const labels = m.buckets.map((t) => bucketLabel(t, win.bucket));
  return {
    ...baseOption(theme),
    tooltip: {
      ...(baseOption(theme).tooltip as TooltipComponentOption),
      valueFormatter: (v) => tooltipValue(v, formatPercent),
    },
    xAxis: categoryAxis(labels, theme),
    yAxis: { ...valueAxis(theme, (v) => formatPercent(v)), max: 1 },
    series: VERDICT_ORDER.map((verdict) => ({
      name: verdict.charAt(0) + verdict.slice(1).toLowerCase(),
      type: 'bar' as const,
      stack: 'share',
      barMaxWidth: 28,
      itemStyle: { color: VERDICT_COLORS[verdict] },
      data: m.counts[verdict].map((c, i) => {
        const total = m.totals[i] ?? 0;
        return total > 0 ? c / total : null; // no reviews: no share, not 0 %
      }),
    })),
  };
}

export function isEmptyVerdicts(points: VerdictPoint[]): boolean {
  return points.every((p) => p.count === 0);
}

/** Turn animation off (tests, reduced motion) without touching the builders. */
export function withoutAnimation(option: ChartOption): ChartOption {
  return { ...option, animation: false };
}
