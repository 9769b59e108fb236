// Pure functions for the Tools page: tool series points in, ECharts options out (no DOM).
import type { TooltipComponentOption } from 'echarts/components';
import { formatDuration, formatInteger, formatPercent } from '../lib/format';
import { bucketRange, bucketStart } from '../lib/period';
import { baseOption, bucketLabel, groupColors, type ChartOption, type ChartTheme, type Window } from './options';

/** A point of `toolSeries.points`. */
export interface ToolPoint {
  bucketStart: string;
  group: string;
  calls: number;
  completed: number;
  errors: number;
  errorRate: number | null;
  durationP95Ms: number | null;
}

export type ToolMetric = 'calls' | 'errorRate' | 'p95';

export interface ToolMatrix {
  buckets: number[];
  groups: string[];
  /** values[g][b]; null where the bucket has no data for that metric (no calls, no results) */
  values: Array<Array<number | null>>;
}

function pointValue(p: ToolPoint, metric: ToolMetric): number | null {
  if (metric === 'calls') return p.calls;
  if (metric === 'errorRate') return p.completed > 0 ? p.errors / p.completed : null;
  return p.durationP95Ms;
}

/** Points → groups × every bucket of the window; groups in the API's order (most called first). */
export function toolMatrix(points: ToolPoint[], win: Window, metric: ToolMetric, groups: string[]): ToolMatrix {
  const buckets = bucketRange(win.from, win.to, win.bucket);
  const index = new Map(buckets.map((t, i) => [t, i]));
  const rows = new Map<string, Array<number | null>>(
    groups.map((g) => [g, new Array<number | null>(buckets.length).fill(metric === 'calls' ? 0 : null)]),
  );
  for (const p of points) {
    const i = index.get(bucketStart(Date.parse(p.bucketStart), win.bucket));
    const row = rows.get(p.group);
    if (i === undefined || !row) continue;
    row[i] = pointValue(p, metric);
  }
  return { buckets, groups, values: groups.map((g) => rows.get(g) ?? []) };
}

const FORMAT: Record<ToolMetric, (v: number) => string> = {
  calls: (v) => formatInteger(v),
  errorRate: (v) => formatPercent(v),
  p95: (v) => formatDuration(v),
};

/** Calls per tool stacked as bars; error rate and p95 latency per tool as lines with gaps. */
export function toolChart(points: ToolPoint[], win: Window, metric: ToolMetric, groups: string[], theme: ChartTheme): ChartOption {
  const m = toolMatrix(points, win, metric, groups);
  const colors = groupColors(groups, theme);
  const fmt = FORMAT[metric];
  const base = baseOption(theme);
  return {
    ...base,
    tooltip: {
      ...(base.tooltip as TooltipComponentOption),
      valueFormatter: (v) => (v === null || v === undefined || v === '-' ? '—' : fmt(Number(v))),
    },
    xAxis: {
      type: 'category',
      data: m.buckets.map((t) => bucketLabel(t, win.bucket)),
      axisLine: { lineStyle: { color: theme.grid } },
      axisTick: { show: false },
      axisLabel: { color: theme.muted, hideOverlap: true },
    },
    yAxis: {
      type: 'value',
      splitLine: { lineStyle: { color: theme.grid } },
      axisLabel: { color: theme.muted, formatter: (v: number) => fmt(v) },
      ...(metric === 'errorRate' ? { max: (e: { max: number }) => Math.min(1, Math.max(0.05, e.max)) } : {}),
    },
    series: m.groups.map((g, i) =>
      metric === 'calls'
        ? {
            name: g,
            type: 'bar' as const,
            stack: 'total',
            barMaxWidth: 28,
            itemStyle: { color: colors[g] ?? theme.muted },
            data: (m.values[i] ?? []).map((v) => v ?? 0),
          }
        : {
            name: g,
            type: 'line' as const,
            showSymbol: false,
            connectNulls: false,
            itemStyle: { color: colors[g] ?? theme.muted },
            data: (m.values[i] ?? []).map((v) => (v === null ? '-' : v)),
          },
    ),
  };
}

export function isEmptyTools(points: ToolPoint[]): boolean {
  return points.every((p) => p.calls === 0);
}

/** Unicode sparkline of an error group's trend (12 slices of the range). */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return values.map(() => '▁').join('');
  const bars = '▁▂▃▄▅▆▇█';
  return values.map((v) => bars[Math.min(7, Math.round((v / max) * 7))] ?? '▁').join('');
}

/** Where a failed call's transcript opens: its run, scrolled to the failed result. */
export function failedCallHref(c: { sessionId: string; runId: string | null; resultMessageId: string | null; callMessageId: string }): string {
  const params = new URLSearchParams();
  if (c.runId) params.set('run', c.runId);
  params.set('message', c.resultMessageId ?? c.callMessageId);
  return `/sessions/${c.sessionId}?${params.toString()}`;
}
