import { describe, expect, it } from 'vitest';
import {
  LIGHT_THEME,
  groupColors,
  bucketLabel,
  durationDistribution,
  histogramLabel,
  isEmptyMatrix,
  stackedOverTime,
  toMatrix,
  toVerdictMatrix,
  verdictMix,
  withoutAnimation,
  type SeriesPoint,
  type Window,
} from './options';

const win: Window = {
  from: new Date('2026-11-01T00:00:00Z'),
  to: new Date('2026-11-04T00:00:00Z'),
  bucket: 'DAY',
};

function pt(day: string, group: string, cost: string | null, tokens: number | null, runs = 1): SeriesPoint {
  return { bucketStart: `2026-11-${day}T00:00:00+00:00`, group, cost, totalTokens: tokens, runCount: runs };
}

describe('toMatrix', () => {
  it('leaves buckets without data empty (null) and orders groups by total', () => {
    const m = toMatrix([pt('01', 'atlas', '1.5', 100), pt('03', 'sofia', '4', 50), pt('03', 'atlas', '1', 10)], win, 'cost');
    expect(m.buckets).toHaveLength(3);
    expect(m.groups).toEqual(['sofia', 'atlas']);
    expect(m.values).toEqual([
      [null, null, 4],
      [1.5, null, 1],
    ]);
  });
  it('keeps unknown (null) values unknown, never zero', () => {
    const m = toMatrix([pt('02', 'orion', null, null)], win, 'totalTokens');
    expect(m.values).toEqual([[null, null, null]]);
    expect(isEmptyMatrix(m)).toBe(true);
    // A bucket with some reported and some unreported runs sums what was reported.
    const mixed = toMatrix([pt('02', 'a', null, 5), pt('02', 'a', '1', 5)], win, 'cost');
    expect(mixed.values).toEqual([[null, 1, null]]);
  });
  it('ignores points outside the window and folds the tail into "other"', () => {
    const pts = ['a', 'b', 'c', 'd'].map((g, i) => pt('01', g, String(10 - i), 0));
    pts.push(pt('09', 'a', '100', 0));
    const m = toMatrix(pts, win, 'cost', 3);
    expect(m.groups).toEqual(['a', 'b', 'other']);
    expect(m.values[2]?.[0]).toBe(15); // c (8) + d (7)
    expect(m.values[0]?.[0]).toBe(10);
  });
  it('aligns hourly points regardless of offset notation', () => {
    const hourly: Window = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-01T03:00:00Z'), bucket: 'HOUR' };
    const m = toMatrix([{ bucketStart: '2026-11-01T01:00:00Z', group: 'x', cost: '2', totalTokens: 0, runCount: 3 }], hourly, 'runCount');
    expect(m.values).toEqual([[null, 3, null]]);
  });
});

describe('stackedOverTime', () => {
  it('builds one stacked bar series per group with formatted axes', () => {
    const opt = stackedOverTime([pt('01', 'atlas', '1.5', 1200), pt('02', 'sofia', '2', 3400)], win, 'totalTokens', LIGHT_THEME);
    const series = opt.series as Array<{ name: string; stack: string; type: string; data: number[] }>;
    expect(series.map((s) => s.name)).toEqual(['sofia', 'atlas']);
    expect(series.every((s) => s.stack === 'total' && s.type === 'bar')).toBe(true);
    expect(series[0]?.data).toEqual([null, 3400, null]);
    const x = opt.xAxis as { data: string[] };
    expect(x.data).toEqual(['Nov 1', 'Nov 2', 'Nov 3']);
    const y = opt.yAxis as { axisLabel: { formatter: (v: number) => string } };
    expect(y.axisLabel.formatter(3400)).toBe('3.4k');
  });
  it('formats money on the cost axis', () => {
    const opt = stackedOverTime([pt('01', 'atlas', '12345', 0)], win, 'cost', LIGHT_THEME);
    const y = opt.yAxis as { axisLabel: { formatter: (v: number) => string } };
    expect(y.axisLabel.formatter(12345)).toBe('$12.3K');
    expect(y.axisLabel.formatter(2.5)).toBe('$2.50');
  });
  it('can switch animation off for screenshots', () => {
    expect(withoutAnimation(stackedOverTime([], win, 'cost', LIGHT_THEME)).animation).toBe(false);
  });
});

describe('groupColors', () => {
  it('colours by name, not by rank, so charts agree', () => {
    const cost = stackedOverTime([pt('01', 'atlas', '9', 1), pt('01', 'sofia', '1', 9)], win, 'cost', LIGHT_THEME);
    const tokens = stackedOverTime([pt('01', 'atlas', '9', 1), pt('01', 'sofia', '1', 9)], win, 'totalTokens', LIGHT_THEME);
    const colorOf = (opt: typeof cost, name: string) =>
      (opt.series as Array<{ name: string; itemStyle: { color: string } }>).find((s) => s.name === name)?.itemStyle.color;
    expect(colorOf(cost, 'sofia')).toBe(colorOf(tokens, 'sofia'));
    // The same name keeps its colour whatever else is shown (a filter, another grouping).
    expect(groupColors(['sofia'], LIGHT_THEME).sofia).toBe(colorOf(cost, 'sofia'));
    expect(groupColors(['b', 'other', 'a'], LIGHT_THEME)).toEqual(groupColors(['a', 'b', 'other'], LIGHT_THEME));
    expect(groupColors(['other'], LIGHT_THEME).other).toBe(LIGHT_THEME.muted);
    // The demo's agents and models each get their own colour.
    for (const names of [['sofia', 'atlas', 'nova', 'orion'], ['claude-sonnet-4-5', 'gpt-5', 'gemini-2.5-pro', 'qwen3-coder-30b']]) {
      expect(new Set(Object.values(groupColors(names, LIGHT_THEME))).size).toBe(names.length);
    }
  });
  it('names groups by display name in the legend and shows a null cost as "—", never $0', () => {
    const opt = stackedOverTime([pt('01', 'orion', null, null), pt('01', 'sofia', '2', 10)], win, 'cost', LIGHT_THEME, {
      orion: 'Orion (local)',
      sofia: 'Sofia (ops)',
    });
    const series = opt.series as Array<{ name: string; data: Array<number | null> }>;
    expect(series.map((s) => s.name).sort()).toEqual(['Orion (local)', 'Sofia (ops)']);
    expect(series.find((s) => s.name === 'Orion (local)')?.data).toEqual([null, null, null]);
    const fmt = (opt.tooltip as { valueFormatter: (v: unknown) => string }).valueFormatter;
    expect(fmt(null)).toBe('—');
    expect(fmt('-')).toBe('—');
    expect(fmt(undefined)).toBe('—');
    expect(fmt(0)).toBe('$0');
    expect(fmt(2)).toBe('$2.00');
  });
});

describe('bucketLabel', () => {
  it('shows hours for hourly buckets', () => {
    expect(bucketLabel(Date.parse('2026-11-01T07:00:00Z'), 'HOUR')).toBe('Nov 1 07:00');
    expect(bucketLabel(Date.parse('2026-11-23T00:00:00Z'), 'WEEK')).toBe('Nov 23');
  });
});

describe('durationDistribution', () => {
  it('sorts buckets and labels open and closed ranges', () => {
    const opt = durationDistribution(
      [
        { lowerMs: 60_000, upperMs: null, count: 2 },
        { lowerMs: 0, upperMs: 1000, count: 5 },
        { lowerMs: 1000, upperMs: 60_000, count: 9 },
      ],
      LIGHT_THEME,
    );
    expect((opt.xAxis as { data: string[] }).data).toEqual(['< 1 s', '1 s – 1m 00s', '≥ 1m 00s']);
    expect((opt.series as Array<{ data: number[] }>)[0]?.data).toEqual([5, 9, 2]);
  });
  it('labels', () => {
    expect(histogramLabel({ lowerMs: 500, upperMs: 2000, count: 0 })).toBe('500 ms – 2 s');
  });
});

describe('verdictMix', () => {
  const pts = [
    { bucketStart: '2026-11-01T00:00:00Z', verdict: 'ACCOMPLISHED' as const, count: 3 },
    { bucketStart: '2026-11-01T00:00:00Z', verdict: 'FAILED' as const, count: 1 },
    { bucketStart: '2026-11-03T00:00:00Z', verdict: 'PARTIAL' as const, count: 2 },
  ];
  it('counts verdicts per bucket', () => {
    const m = toVerdictMatrix(pts, win);
    expect(m.counts.ACCOMPLISHED).toEqual([3, 0, 0]);
    expect(m.totals).toEqual([4, 0, 2]);
  });
  it('stacks shares to 100 % with fixed verdict colours', () => {
    const opt = verdictMix(pts, win, LIGHT_THEME);
    const series = opt.series as Array<{ name: string; data: number[]; itemStyle: { color: string } }>;
    expect(series.map((s) => s.name)).toEqual(['Accomplished', 'Partial', 'Failed', 'Unclear']);
    expect(series[0]?.data).toEqual([0.75, null, 0]);
    expect(series[2]?.data).toEqual([0.25, null, 0]);
    expect(series[1]?.data).toEqual([0, null, 1]);
    expect(series[0]?.itemStyle.color).toBe('#22a06b');
  });
});
