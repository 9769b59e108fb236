import { describe, expect, it } from 'vitest';
import {
  aiEvidence,
  aiSuggestions,
  claimState,
  claimText,
  confidenceText,
  interpretKey,
  itemKey,
  neighbour,
  reasonChips,
  successor,
  type KeyInput,
  type KeyState,
} from './queue';

describe('reasonChips', () => {
  it('orders reasons by urgency, fills missing ones with 0, and reads the total', () => {
    const { chips, total } = reasonChips([
      { reason: 'failed', count: 30 },
      { reason: 'low_confidence', count: 37 },
      { reason: 'total', count: 137 },
      { reason: 'unreviewed', count: 93 },
    ]);
    expect(chips.map((c) => [c.reason, c.count])).toEqual([
      ['disagreement', 0],
      ['low_confidence', 37],
      ['failed', 30],
      ['unreviewed', 93],
    ]);
    expect(chips[0]?.label).toBe('Disagreement');
    expect(total).toBe(137);
  });
});

describe('claims', () => {
  const now = Date.parse('2026-11-27T09:00:00Z');
  it('free, mine with minutes left, or someone else until a time', () => {
    expect(claimState({ claimed: false, claimedByMe: false, claimExpiresAt: null }, now)).toEqual({ kind: 'free' });
    const mine = claimState({ claimed: true, claimedByMe: true, claimExpiresAt: '2026-11-27T09:15:10Z' }, now);
    expect(mine).toMatchObject({ kind: 'mine', minutesLeft: 15 });
    expect(claimText(claimState({ claimed: true, claimedByMe: true, claimExpiresAt: '2026-11-27T09:00:20Z' }, now))).toBe('Claimed by you · under a minute left');
    expect(claimText(mine)).toBe('Claimed by you · 15 min left');
    const other = claimState({ claimed: true, claimedByMe: false, claimExpiresAt: '2026-11-27T09:10:00Z' }, now);
    expect(other.kind).toBe('other');
    expect(claimText(other)).toMatch(/^Claimed by another reviewer until /);
  });
  it('treats an expired claim as free', () => {
    expect(claimState({ claimed: true, claimedByMe: true, claimExpiresAt: '2026-11-27T08:59:00Z' }, now)).toEqual({ kind: 'free' });
  });
});

describe('list navigation', () => {
  const keys = ['1', '2:5', '3'];
  it('moves and clamps; starts at the top', () => {
    expect(neighbour(keys, null, 1)).toBe('1');
    expect(neighbour(keys, '1', 1)).toBe('2:5');
    expect(neighbour(keys, '3', 1)).toBe('3');
    expect(neighbour(keys, '1', -1)).toBe('1');
    expect(neighbour([], null, 1)).toBeNull();
  });
  it('picks the item that takes a finished one’s place', () => {
    expect(successor(keys, '2:5')).toBe('3');
    expect(successor(keys, '3')).toBe('2:5');
    expect(successor(['1'], '1')).toBeNull();
  });
  it('keys sessions and runs apart', () => {
    expect(itemKey({ sessionId: '10', runId: '1415' })).toBe('10:1415');
    expect(itemKey({ sessionId: '10', runId: null })).toBe('10');
  });
});

describe('interpretKey', () => {
  const base: KeyInput = { key: '', code: '', shiftKey: false, ctrlKey: false, metaKey: false, altKey: false, target: 'other' };
  const press = (patch: Partial<KeyInput>, state: KeyState = { armedAt: null }, now = 1000) => interpretKey({ ...base, ...patch }, state, now);

  it('1–4 set the verdict', () => {
    expect(press({ key: '1', code: 'Digit1' }).action).toEqual({ type: 'verdict', verdict: 'ACCOMPLISHED' });
    expect(press({ key: '4', code: 'Digit4' }).action).toEqual({ type: 'verdict', verdict: 'UNCLEAR' });
    expect(press({ key: '5', code: 'Digit5' }).action).toBeNull();
  });
  it('r then a digit sets the rating, within the window only', () => {
    const armed = press({ key: 'r', code: 'KeyR' });
    expect(armed.action).toEqual({ type: 'arm-rating' });
    expect(press({ key: '5', code: 'Digit5' }, armed.state, 1500).action).toEqual({ type: 'rating', rating: 5 });
    expect(press({ key: '2', code: 'Digit2' }, armed.state, 1500).state.armedAt).toBeNull();
    expect(press({ key: '2', code: 'Digit2' }, armed.state, 9000).action).toEqual({ type: 'verdict', verdict: 'PARTIAL' });
  });
  it('Shift+digit sets the rating whatever the layout types', () => {
    expect(press({ key: '!', code: 'Digit1', shiftKey: true }).action).toEqual({ type: 'rating', rating: 1 });
    expect(press({ key: '%', code: 'Digit5', shiftKey: true }).action).toEqual({ type: 'rating', rating: 5 });
    expect(press({ key: '"', code: 'Digit2', shiftKey: true }).action).toEqual({ type: 'rating', rating: 2 });
  });
  it('letters: submit, skip, next/prev, claim, help', () => {
    expect(press({ key: 'Enter', code: 'Enter' }).action).toEqual({ type: 'submit' });
    expect(press({ key: 's', code: 'KeyS' }).action).toEqual({ type: 'skip' });
    expect(press({ key: 'j', code: 'KeyJ' }).action).toEqual({ type: 'next' });
    expect(press({ key: 'k', code: 'KeyK' }).action).toEqual({ type: 'prev' });
    expect(press({ key: 'c', code: 'KeyC' }).action).toEqual({ type: 'claim' });
    expect(press({ key: 'n', code: 'KeyN' }).action).toEqual({ type: 'claim-next' });
    expect(press({ key: 'u', code: 'KeyU' }).action).toEqual({ type: 'release' });
    expect(press({ key: '?', code: 'Slash', shiftKey: true }).action).toEqual({ type: 'help' });
    expect(press({ key: 'x', code: 'KeyX' }).action).toBeNull();
  });
  it('leaves browser shortcuts and focused buttons alone', () => {
    expect(press({ key: 'r', code: 'KeyR', ctrlKey: true }).action).toBeNull();
    expect(press({ key: '1', code: 'Digit1', metaKey: true }).action).toBeNull();
    expect(press({ key: 'Enter', code: 'Enter', target: 'button' }).action).toBeNull();
    expect(press({ key: 'S', code: 'KeyS', shiftKey: true }).action).toBeNull();
  });
  it('while typing, only Ctrl/Cmd+Enter and Escape count', () => {
    expect(press({ key: '1', code: 'Digit1', target: 'text' }).action).toBeNull();
    expect(press({ key: 's', code: 'KeyS', target: 'text' }).action).toBeNull();
    expect(press({ key: 'Enter', code: 'Enter', target: 'text' }).action).toBeNull();
    expect(press({ key: 'Enter', code: 'Enter', target: 'text', ctrlKey: true }).action).toEqual({ type: 'submit' });
    expect(press({ key: 'Escape', code: 'Escape', target: 'text' }).action).toEqual({ type: 'escape' });
  });
});

describe('AI review display helpers', () => {
  it('flags low confidence', () => {
    expect(confidenceText(0.44)).toEqual({ text: '44% confident', low: true });
    expect(confidenceText(0.9)).toEqual({ text: '90% confident', low: false });
    expect(confidenceText(null).low).toBe(false);
  });
  it('reads evidence and suggestions JSON defensively', () => {
    expect(aiEvidence({ items: [{ message: '#12', message_id: 99, note: 'tests failed' }, 5, {}] })).toEqual([{ ref: '#12', note: 'tests failed' }]);
    expect(aiSuggestions({ items: [{ target: 'heartbeat_prompt', text: 'Be brief' }, { target: 'x' }] })).toEqual([
      { target: 'heartbeat_prompt', text: 'Be brief' },
    ]);
    expect(aiEvidence(null)).toEqual([]);
    expect(aiSuggestions('nope')).toEqual([]);
  });
});
