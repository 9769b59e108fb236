import { describe, expect, it } from 'vitest';
import { KIND_ORDER, formatAlertValue, thresholdFromInput, thresholdToInput } from './alerts';

describe('alert kinds', () => {
  it('formats values in each kind’s unit', () => {
    expect(formatAlertValue('FAILURE_RATE', 0.4567)).toBe('45.7 %');
    expect(formatAlertValue('DAILY_COST', 12.5)).toBe('$12.50');
    expect(formatAlertValue('HEARTBEAT_MISSED', 3.24)).toBe('3.2 ×');
    expect(formatAlertValue('TASK_STALLED', 90.4)).toBe('90 min');
    expect(formatAlertValue('SYNC_STALE', 1800)).toBe('30 min');
    expect(formatAlertValue('DAILY_COST', Number.NaN)).toBe('—');
  });

  it('reads shares in percent and refuses empty or non-positive thresholds', () => {
    expect(thresholdFromInput('FAILURE_RATE', '30')).toBeCloseTo(0.3);
    expect(thresholdFromInput('DAILY_COST', '12.5')).toBe(12.5);
    expect(thresholdFromInput('DAILY_COST', '')).toBeNull();
    expect(thresholdFromInput('TASK_STALLED', '-1')).toBeNull();
    expect(thresholdToInput('DISAGREEMENT', 0.4)).toBe('40');
    expect(KIND_ORDER).toHaveLength(7);
    expect(thresholdToInput('TOOL_ERROR_RATE', 0.2)).toBe('20');
  });
});
