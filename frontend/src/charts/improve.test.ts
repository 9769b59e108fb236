import { describe, expect, it } from 'vitest';
import { comparisonRows, type Comparison } from '../lib/compare';
import {
  CHANGE_COLORS,
  agreementOverTime,
  deltaWhiskers,
  isEmptyAgreement,
  isEmptyWhiskers,
  renderWhisker,
  whiskerExtent,
  whiskerHeight,
  whiskerRows,
} from './improve';
import { LIGHT_THEME } from './options';

function metric(patch: Partial<Comparison>): Comparison {
  return {
    metric: 'success_rate',
    label: 'Success rate (reviews)',
    unit: 'ratio',
    higherIsBetter: true,
    method: 'two-proportion z',
    a: 0.5,
    b: 0.6,
    nA: 40,
    nB: 40,
    delta: 0.1,
    relativeDelta: 0.2,
    ciLow: -0.05,
    ciHigh: 0.25,
    pValue: 0.2,
    pAdjusted: 0.6,
    significant: false,
    change: null,
    ...patch,
  };
}

const rows = comparisonRows([
  {
    group: null,
    metrics: [
      metric({}),
      metric({ metric: 'heartbeat_cost', label: 'Cost per heartbeat', unit: 'usd', higherIsBetter: false, a: 0.02, b: 0.03, delta: 0.01, relativeDelta: 0.5, ciLow: 0.004, ciHigh: 0.016, pAdjusted: 0.01, significant: true, change: 'worse' }),
      metric({ metric: 'ttc_p95', label: 'Time to completion p95', unit: 'seconds', a: 100, b: 90, delta: -10, ciLow: null, ciHigh: null, pAdjusted: null }),
      metric({ metric: 'cost_per_success', label: 'Cost per successful session', unit: 'usd', a: null, b: null, delta: null, ciLow: null, ciHigh: null, pAdjusted: null }),
    ],
  },
]);

describe('whiskerRows', () => {
  it('relative scale: change and interval as a share of the before value', () => {
    const w = whiskerRows(rows, 'relative', (r) => r.label);
    expect(w[0]).toMatchObject({ value: 0.2, low: -0.1, high: 0.5, verdict: 'noise' });
    expect(w[1]?.value).toBeCloseTo(0.5);
    expect(w[1]?.low).toBeCloseTo(0.2);
    expect(w[2]).toMatchObject({ value: -0.1, low: null, high: null, verdict: 'untested' });
    expect(w[3]?.value).toBeNull();
    expect(w[1]?.tooltip).toContain('Worse (significant)');
    expect(w[0]?.tooltip).toContain('No significant change');
  });
  it('absolute scale: ratios in percentage points, other units as they are', () => {
    const w = whiskerRows(rows, 'absolute', (r) => r.label);
    expect(w[0]?.value).toBeCloseTo(10);
    expect(w[0]?.low).toBeCloseTo(-5);
    expect(w[1]?.value).toBeCloseTo(0.01);
  });
  it('escapes labels in tooltips', () => {
    expect(whiskerRows(rows.slice(0, 1), 'relative', () => '<img onerror=x>')[0]?.tooltip).toContain('&lt;img');
  });
  it('knows when nothing can be drawn', () => {
    expect(isEmptyWhiskers(whiskerRows(rows.slice(3), 'relative', (r) => r.label))).toBe(true);
    expect(isEmptyWhiskers(whiskerRows(rows, 'relative', (r) => r.label))).toBe(false);
  });
});

describe('deltaWhiskers', () => {
  const w = whiskerRows(rows, 'relative', (r) => r.label);
  const option = deltaWhiskers(w, 'relative', 'mixed', LIGHT_THEME);
  const series = option.series as Array<Record<string, unknown>>;

  it('one category per drawable row, first on top', () => {
    const y = option.yAxis as { data: string[]; inverse: boolean };
    expect(y.data).toEqual(['Success rate (reviews)', 'Cost per heartbeat', 'Time to completion p95']);
    expect(y.inverse).toBe(true);
  });
  it('whiskers only where there is an interval; colour only for significant changes', () => {
    const whiskers = series[0]?.data as Array<{ value: number[]; itemStyle: { color: string } }>;
    expect(whiskers.map((d) => d.value[2])).toEqual([0, 1]);
    expect(whiskers[0]?.itemStyle.color).toBe(CHANGE_COLORS.noise);
    expect(whiskers[1]?.itemStyle.color).toBe(CHANGE_COLORS.worse);
    const dots = series[1]?.data as Array<{ value: number[]; symbol: string; itemStyle: { color: string; borderColor: string } }>;
    expect(dots).toHaveLength(3);
    expect(dots[2]?.symbol).toBe('emptyCircle');
    expect(dots[2]?.itemStyle.color).toBe(LIGHT_THEME.background);
    expect(dots[1]?.itemStyle.color).toBe(CHANGE_COLORS.worse);
  });
  it('a dashed zero line and a symmetric axis around it', () => {
    expect((series[1]?.markLine as { data: unknown[] }).data).toEqual([{ xAxis: 0 }]);
    const x = option.xAxis as { min: number; max: number };
    expect(x.min).toBe(-x.max);
    expect(x.max).toBeGreaterThanOrEqual(0.5);
  });
  it('tooltips come from the row', () => {
    const fmt = (option.tooltip as { formatter: (p: unknown) => string }).formatter;
    expect(fmt({ dataIndex: 1 })).toContain('Cost per heartbeat');
  });
  it('extent and height helpers', () => {
    expect(whiskerExtent([])).toBe(1);
    expect(whiskerExtent([{ key: 'k', label: 'l', verdict: 'noise', value: 0.12, low: -0.3, high: 0.45, tooltip: '' }])).toBe(0.5);
    expect(whiskerExtent([{ key: 'k', label: 'l', verdict: 'noise', value: 0, low: -1, high: 0.97, tooltip: '' }])).toBe(1.5);
    expect(whiskerExtent([{ key: 'k', label: 'l', verdict: 'noise', value: 12, low: 3, high: 21, tooltip: '' }])).toBe(25);
    expect(whiskerHeight(1)).toBe(160);
    expect(whiskerHeight(10)).toBe(380);
  });
  it('renderWhisker draws a line with two caps at the row', () => {
    const api = {
      value: (i: number) => [0.1, 0.3, 2][i] as number,
      coord: ([x, y]: number[]) => [(x ?? 0) * 100, (y ?? 0) * 30],
      size: () => [0, 30],
      visual: () => '#de4a3b',
    };
    const out = renderWhisker({} as never, api as never) as unknown as { children: Array<{ shape: Record<string, number>; style: { stroke: string } }> };
    expect(out.children).toHaveLength(3);
    expect(out.children[0]?.shape).toEqual({ x1: 10, y1: 60, x2: 30, y2: 60 });
    expect(out.children[0]?.style.stroke).toBe('#de4a3b');
  });
});

describe('agreementOverTime', () => {
  const pts = [
    { bucket: '2026-11-21T00:00:00+00:00', reviewerModel: 'gpt-5-mini', stats: { pairs: 4, verdictMatches: 3, agreementRate: 0.75, meanAbsRatingDiff: 0.5 } },
    { bucket: '2026-11-20T00:00:00+00:00', reviewerModel: 'gpt-5-mini', stats: { pairs: 2, verdictMatches: 2, agreementRate: 1, meanAbsRatingDiff: 0 } },
    { bucket: '2026-11-20T00:00:00+00:00', reviewerModel: 'llama', stats: { pairs: 0, verdictMatches: 0, agreementRate: null, meanAbsRatingDiff: null } },
  ];
  it('one line per model, points in time order, empty buckets left out', () => {
    const o = agreementOverTime(pts, LIGHT_THEME);
    const series = o.series as Array<{ name: string; data: number[][] }>;
    expect(series.map((s) => s.name)).toEqual(['gpt-5-mini', 'llama']);
    expect(series[0]?.data.map((d) => d[1])).toEqual([1, 0.75]);
    expect(series[1]?.data).toEqual([]);
    expect((o.yAxis as { max: number }).max).toBe(1);
  });
  it('spans the whole window when given one', () => {
    const from = new Date('2026-11-13T00:00:00Z');
    const to = new Date('2026-11-27T00:00:00Z');
    const x = agreementOverTime(pts, LIGHT_THEME, { from, to }).xAxis as { min: number; max: number };
    expect([x.min, x.max]).toEqual([from.getTime(), to.getTime()]);
  });
  it('tooltip reads agreement with its counts', () => {
    const o = agreementOverTime(pts, LIGHT_THEME);
    const fmt = (o.tooltip as { formatter: (p: unknown) => string }).formatter;
    expect(fmt({ seriesName: 'gpt-5-mini', value: [Date.parse('2026-11-21T00:00:00Z'), 0.75, 4, 3, 0.5] })).toContain('75% agreement (3 of 4 verdicts)');
  });
  it('is empty without pairs', () => {
    expect(isEmptyAgreement(pts.slice(2))).toBe(true);
    expect(isEmptyAgreement(pts)).toBe(false);
  });
});
