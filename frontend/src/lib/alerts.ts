// Alert rule kinds as the UI presents them: what the threshold means, its unit and a sensible
// default, and how a value reads. Pure, so it is unit-tested.
import type { AlertRuleKind } from '../gql/graphql';

export interface KindInfo {
  label: string;
  unit: string;
  help: string;
  threshold: number;
  windowMinutes: number;
  minSample: number;
}

export const KINDS: Record<AlertRuleKind, KindInfo> = {
  HEARTBEAT_MISSED: {
    label: 'Heartbeat missed',
    unit: '× usual interval',
    help: 'Main session silent for longer than this many of its usual heartbeat intervals.',
    threshold: 3,
    windowMinutes: 24 * 60,
    minSample: 5,
  },
  TASK_STALLED: {
    label: 'Task stalled',
    unit: 'minutes idle',
    help: 'A running task with no activity for this many minutes.',
    threshold: 60,
    windowMinutes: 60,
    minSample: 1,
  },
  FAILURE_RATE: {
    label: 'Failure rate',
    unit: 'share of runs',
    help: 'Share of runs that failed in the window (needs at least the minimum sample).',
    threshold: 0.3,
    windowMinutes: 60,
    minSample: 10,
  },
  DAILY_COST: {
    label: 'Daily cost',
    unit: 'USD today (UTC)',
    help: 'Spend of runs started since midnight UTC over this budget.',
    threshold: 10,
    windowMinutes: 60,
    minSample: 1,
  },
  SYNC_STALE: {
    label: 'Sync stale',
    unit: 'seconds since success',
    help: 'A sync source without a successful pass for this long, or its circuit open.',
    threshold: 600,
    windowMinutes: 60,
    minSample: 1,
  },
  DISAGREEMENT: {
    label: 'AI/human disagreement',
    unit: 'share of reviews',
    help: 'Share of AI-reviewed targets whose human verdict differs, in the window.',
    threshold: 0.4,
    windowMinutes: 7 * 24 * 60,
    minSample: 5,
  },
  TOOL_ERROR_RATE: {
    label: 'Tool error rate',
    unit: 'share of tool calls',
    help: 'Share of a tool’s answered calls that failed in the window, per agent and tool.',
    threshold: 0.2,
    windowMinutes: 24 * 60,
    minSample: 20,
  },
};

export const KIND_ORDER = Object.keys(KINDS) as AlertRuleKind[];

const SHARES: ReadonlySet<AlertRuleKind> = new Set(['FAILURE_RATE', 'DISAGREEMENT', 'TOOL_ERROR_RATE']);

/** A rule's value or threshold in its own terms ("45 %", "$12.50", "3.2 ×", "90 min"). */
export function formatAlertValue(kind: AlertRuleKind, value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (SHARES.has(kind)) return `${Math.round(value * 1000) / 10} %`;
  if (kind === 'DAILY_COST') return `$${value.toFixed(2)}`;
  if (kind === 'HEARTBEAT_MISSED') return `${Math.round(value * 10) / 10} ×`;
  if (kind === 'TASK_STALLED') return `${Math.round(value)} min`;
  return `${Math.round(value / 60)} min`;
}

/** Threshold as typed in the form: shares are entered in percent. */
export function thresholdFromInput(kind: AlertRuleKind, text: string): number | null {
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) return null;
  return SHARES.has(kind) ? n / 100 : n;
}

export function thresholdToInput(kind: AlertRuleKind, value: number): string {
  return String(SHARES.has(kind) ? Math.round(value * 1000) / 10 : value);
}
