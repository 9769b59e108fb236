import { describe, expect, it } from 'vitest';
import { LIGHT_THEME } from './options';
import { failedCallHref, sparkline, toolChart, toolMatrix, type ToolPoint } from './tools';

const win = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-04T00:00:00Z'), bucket: 'DAY' as const };
const pt = (day: number, group: string, calls: number, completed: number, errors: number, p95: number | null): ToolPoint => ({
  bucketStart: `2026-11-0${day}T00:00:00+00:00`,
  group,
  calls,
  completed,
  errors,
  errorRate: completed ? errors / completed : null,
  durationP95Ms: p95,
});
const points = [pt(1, 'exec', 10, 10, 1, 2000), pt(3, 'exec', 4, 2, 1, 3000), pt(2, 'read', 5, 5, 0, 40)];

describe('tool charts', () => {
  it('fills every bucket: calls with 0, rates and latencies with null (a gap, not a zero)', () => {
    const calls = toolMatrix(points, win, 'calls', ['exec', 'read']);
    expect(calls.values).toEqual([
      [10, 0, 4],
      [0, 5, 0],
    ]);
    const rate = toolMatrix(points, win, 'errorRate', ['exec', 'read']);
    expect(rate.values).toEqual([
      [0.1, null, 0.5],
      [null, 0, null],
    ]);
    expect(toolMatrix(points, win, 'p95', ['exec', 'read']).values[0]).toEqual([2000, null, 3000]);
  });

  it('bars for calls, gapped lines for the rest, one colour per tool name', () => {
    const bars = toolChart(points, win, 'calls', ['exec', 'read'], LIGHT_THEME);
    const lines = toolChart(points, win, 'errorRate', ['exec', 'read'], LIGHT_THEME);
    const barSeries = bars.series as Array<{ type: string; itemStyle: { color: string } }>;
    const lineSeries = lines.series as Array<{ type: string; data: unknown[]; itemStyle: { color: string } }>;
    expect(barSeries.map((s) => s.type)).toEqual(['bar', 'bar']);
    expect(lineSeries[0]?.data).toEqual([0.1, '-', 0.5]);
    expect(lineSeries[0]?.itemStyle.color).toBe(barSeries[0]?.itemStyle.color);
  });

  it('sparkline and transcript links', () => {
    expect(sparkline([0, 1, 2, 4])).toBe('▁▃▅█');
    expect(sparkline([0, 0])).toBe('▁▁');
    expect(failedCallHref({ sessionId: '7', runId: '9', resultMessageId: '12', callMessageId: '11' })).toBe('/sessions/7?run=9&message=12');
    expect(failedCallHref({ sessionId: '7', runId: null, resultMessageId: null, callMessageId: '11' })).toBe('/sessions/7?message=11');
  });
});
