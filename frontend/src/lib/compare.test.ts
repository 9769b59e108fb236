import { describe, expect, it } from 'vitest';
import {
  agreementBucket,
  comparisonRows,
  customParams,
  evidenceOf,
  formatCi,
  formatDelta,
  formatP,
  formatRelativeDelta,
  formatValue,
  parseLocalDateTime,
  rangeLabel,
  resolveWindows,
  summarize,
  verdictOf,
  writeDayRange,
  type Comparison,
} from './compare';

const now = new Date('2026-11-27T08:58:03Z');

function metric(patch: Partial<Comparison> = {}): Comparison {
  return {
    metric: 'success_rate',
    label: 'Success rate (reviews)',
    unit: 'ratio',
    higherIsBetter: true,
    method: 'two-proportion z',
    a: 0.6,
    b: 0.7,
    nA: 40,
    nB: 42,
    delta: 0.1,
    relativeDelta: 0.1667,
    ciLow: -0.1,
    ciHigh: 0.3,
    pValue: 0.3,
    pAdjusted: 1,
    significant: false,
    change: null,
    ...patch,
  };
}

describe('resolveWindows', () => {
  it('defaults to the last 7 days against the 7 before, ending at the next full hour', () => {
    const w = resolveWindows(new URLSearchParams(), now);
    expect(w.key).toBe(7);
    expect(w.b.to.toISOString()).toBe('2026-11-27T09:00:00.000Z');
    expect(w.b.from.toISOString()).toBe('2026-11-20T09:00:00.000Z');
    expect(w.a.to).toEqual(w.b.from);
    expect(w.a.from.toISOString()).toBe('2026-11-13T09:00:00.000Z');
  });
  it('takes 14 and 30 day spans', () => {
    const w = resolveWindows(new URLSearchParams('span=30'), now);
    expect(w.key).toBe(30);
    expect(w.b.to.getTime() - w.b.from.getTime()).toBe(30 * 86_400_000);
    expect(w.a.to.getTime() - w.a.from.getTime()).toBe(30 * 86_400_000);
  });
  it('reads custom ranges as whole UTC days, and round-trips them', () => {
    const w = resolveWindows(new URLSearchParams('span=custom&a=2026-10-01..2026-10-07&b=2026-11-01..2026-11-14'), now);
    expect(w.key).toBe('custom');
    expect(w.a.from.toISOString()).toBe('2026-10-01T00:00:00.000Z');
    expect(w.a.to.toISOString()).toBe('2026-10-08T00:00:00.000Z');
    expect(w.b.to.toISOString()).toBe('2026-11-15T00:00:00.000Z');
    expect(writeDayRange(w.b)).toBe('2026-11-01..2026-11-14');
    expect(customParams(w)).toEqual({ a: '2026-10-01..2026-10-07', b: '2026-11-01..2026-11-14' });
  });
  it('falls back to the default on a mangled link', () => {
    for (const qs of ['span=custom&a=2026-10-07..2026-10-01&b=2026-11-01..2026-11-02', 'span=custom&a=nope', 'span=9']) {
      expect(resolveWindows(new URLSearchParams(qs), now).key).toBe(7);
    }
  });
  it('labels ranges by their inclusive days', () => {
    expect(rangeLabel({ from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-08T00:00:00Z') })).toBe('Nov 1 – Nov 7');
    expect(rangeLabel({ from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T00:00:00Z') })).toBe('Nov 1');
  });
  it('buckets agreement by day up to about two months', () => {
    const from = new Date('2026-10-01T00:00:00Z');
    expect(agreementBucket(from, new Date('2026-10-29T00:00:00Z'))).toBe('day');
    expect(agreementBucket(from, new Date('2027-01-01T00:00:00Z'))).toBe('week');
  });
});

describe('verdictOf', () => {
  it('calls only significant changes better or worse', () => {
    expect(verdictOf(metric({ significant: true, change: 'better', pAdjusted: 0.01 }))).toBe('better');
    expect(verdictOf(metric({ significant: true, change: 'worse', pAdjusted: 0.01 }))).toBe('worse');
  });
  it('a big but non-significant change is noise, not progress', () => {
    expect(verdictOf(metric({ delta: 0.4, relativeDelta: 0.9, pAdjusted: 0.2 }))).toBe('noise');
  });
  it('separates "not tested" (too few observations) from "no data"', () => {
    expect(verdictOf(metric({ pAdjusted: null, pValue: null, ciLow: null, ciHigh: null }))).toBe('untested');
    expect(verdictOf(metric({ a: null, delta: null }))).toBe('no-data');
  });
});

describe('comparisonRows and summarize', () => {
  const groups = [
    { group: 'atlas', metrics: [metric(), metric({ metric: 'heartbeat_cost', unit: 'usd', significant: true, change: 'worse', pAdjusted: 0.01 })] },
    { group: 'nova', metrics: [metric({ pAdjusted: null }), metric({ metric: 'failure_rate', significant: true, change: 'better', pAdjusted: 0.02 })] },
  ];
  it('flattens groups × metrics with stable keys', () => {
    const rows = comparisonRows(groups);
    expect(rows.map((r) => r.key)).toEqual(['atlas:success_rate', 'atlas:heartbeat_cost', 'nova:success_rate', 'nova:failure_rate']);
    expect(rows.map((r) => r.verdict)).toEqual(['noise', 'worse', 'untested', 'better']);
    expect(comparisonRows([{ group: null, metrics: [metric()] }])[0]?.key).toBe('*:success_rate');
  });
  it('says how many of the tested changes are significant', () => {
    const s = summarize(comparisonRows(groups));
    expect(s).toMatchObject({ tested: 3, better: 1, worse: 1 });
    expect(s.text).toMatch(/2 of 3 tested changes are significant \(1 better, 1 worse/);
  });
  it('says plainly when nothing is significant, or nothing could be tested', () => {
    expect(summarize(comparisonRows([{ group: null, metrics: [metric(), metric()] }])).text).toMatch(/None of the 2 tested changes is statistically significant/);
    expect(summarize(comparisonRows([{ group: null, metrics: [metric({ pAdjusted: null })] }])).text).toMatch(/Not enough data/);
  });
});

describe('formatting in the metric unit', () => {
  it('formats values', () => {
    expect(formatValue('ratio', 0.634)).toBe('63%');
    expect(formatValue('usd', 0.4336)).toBe('$0.43');
    expect(formatValue('seconds', 180.5)).toBe('3m 01s');
    expect(formatValue('tokens', 101560)).toBe('102k');
    expect(formatValue('usd', null)).toBe('—');
  });
  it('formats deltas with a sign; ratios in percentage points', () => {
    expect(formatDelta('ratio', 0.0325)).toBe('+3.3 pp');
    expect(formatDelta('ratio', -0.172)).toBe('−17 pp');
    expect(formatDelta('usd', -0.025)).toBe('−$0.025');
    expect(formatDelta('seconds', 0)).toBe('±0 ms');
    expect(formatRelativeDelta(0.0513)).toBe('+5.1%');
    expect(formatRelativeDelta(-0.374)).toBe('−37%');
    expect(formatCi('ratio', -0.17, 0.24)).toBe('−17 pp … +24 pp');
    expect(formatCi('ratio', null, 0.24)).toBe('—');
  });
  it('formats p-values', () => {
    expect(formatP(0.0004)).toBe('< 0.001');
    expect(formatP(0.0123)).toBe('0.012');
    expect(formatP(0.5)).toBe('0.50');
    expect(formatP(1)).toBe('1');
    expect(formatP(null)).toBe('—');
  });
});

describe('evidenceOf', () => {
  it('reads a recurring-error suggestion: sessions, message count, window and facts', () => {
    const e = evidenceOf({
      since: '2026-11-20T08:58:58+00:00',
      until: '2026-11-27T08:58:58+00:00',
      signature: 'enoent: no such file or directory, open <str>',
      occurrences: 35,
      sessions: 27,
      failed_sessions: 5,
      session_ids: [93, 181, 51],
      message_ids: [6249, 8147],
      tools: ['exec', 'read'],
      agents: ['atlas'],
    });
    expect(e.sessionIds).toEqual(['93', '181', '51']);
    expect(e.messageCount).toBe(2);
    expect(e.window?.from.toISOString()).toBe('2026-11-20T08:58:58.000Z');
    expect(e.facts).toContainEqual({ label: 'Signature', value: 'enoent: no such file or directory, open <str>' });
    expect(e.facts).toContainEqual({ label: 'Tools', value: 'exec, read' });
    expect(e.facts).toContainEqual({ label: 'Failed sessions', value: '5' });
  });
  it('reads idle heartbeats (run ids, money, shares) and a single session id', () => {
    const e = evidenceOf({ heartbeats: 70, idle: 52, idle_share: 0.743, idle_cost: '0.67225162', idle_tokens: 820807, run_ids: [754, 753] });
    expect(e.runIds).toEqual(['754', '753']);
    expect(e.facts).toContainEqual({ label: 'Idle share', value: '74%' });
    expect(e.facts).toContainEqual({ label: 'Idle cost', value: '$0.67' });
    expect(e.facts).toContainEqual({ label: 'Idle tokens', value: '821k' });
    expect(evidenceOf({ session_id: 12, missed_beats: 3, expected_interval_s: 7200 }).sessionIds).toEqual(['12']);
    expect(evidenceOf({ expected_interval_s: 7200 }).facts).toContainEqual({ label: 'Expected interval', value: '2h 00m' });
  });
  it('takes a regression suggestion window from its "b" range, and failure terms', () => {
    const e = evidenceOf({ a: ['2026-11-06T00:00:00Z', '2026-11-13T00:00:00Z'], b: ['2026-11-13T00:00:00Z', '2026-11-20T00:00:00Z'], metric: 'heartbeat_cost' });
    expect(e.window?.to.toISOString()).toBe('2026-11-20T00:00:00.000Z');
    const t = evidenceOf({ terms: [{ term: 'edge cases', docs_failed: 5, docs_other: 0, lift: 3.25 }, { nope: 1 }] });
    expect(t.terms).toEqual([{ term: 'edge cases', docsFailed: 5, docsOther: 0, lift: 3.25 }]);
  });
  it('never throws on odd JSON', () => {
    for (const raw of [null, 3, 'x', [], { session_ids: 'nope', since: 5 }]) {
      expect(evidenceOf(raw)).toMatchObject({ sessionIds: [], runIds: [], window: null });
    }
  });
});

describe('parseLocalDateTime', () => {
  it('turns a datetime-local value into ISO, and rejects junk', () => {
    expect(parseLocalDateTime('2026-11-20T09:30')).toBe(new Date('2026-11-20T09:30').toISOString());
    expect(parseLocalDateTime('')).toBeNull();
    expect(parseLocalDateTime('yesterday')).toBeNull();
  });
});

describe('judge vs human helpers', () => {
  it('builds a dense confusion matrix and counts matches', async () => {
    const { confusionMatrix } = await import('./compare');
    const c = confusionMatrix({ accomplished: { accomplished: 5, failed: 1 }, FAILED: { failed: 2 }, bogus: { failed: 9 }, partial: 'x' });
    expect(c.cells[0]).toEqual([5, 0, 1, 0]);
    expect(c.cells[2]).toEqual([0, 0, 2, 0]);
    expect(c.total).toBe(8);
    expect(c.matches).toBe(7);
    expect(confusionMatrix(null).total).toBe(0);
  });
  it('puts leniency and kappa in words', async () => {
    const { leniency, kappaText } = await import('./compare');
    expect(leniency(0.1)).toBe('in line with humans');
    expect(leniency(0.8)).toBe('lenient (+0.8 stars)');
    expect(leniency(-1.2)).toBe('strict (-1.2 stars)');
    expect(leniency(null)).toBe('—');
    expect(kappaText(0.45)).toBe('0.45 (moderate)');
    expect(kappaText(0.9)).toBe('0.90 (almost perfect)');
  });
});
