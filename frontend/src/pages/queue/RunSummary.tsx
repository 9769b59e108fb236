// "What happened": runs, tool calls, tokens and cost, what was asked and how it ended.
import type { ReactNode } from 'react';
import { Term } from '../../components/Numbers';
import type { QueueRunFieldsFragment } from '../../gql/graphql';
import { formatDuration, formatTokens, formatUSD } from '../../lib/format';

export function RunSummary({
  runs,
  total,
  metrics,
}: {
  runs: QueueRunFieldsFragment[];
  total: number;
  metrics: { failedRuns: number; totalTokens: number | null; cost: string | null; timeToCompletionMs: number | null; wallTimeMs: number | null } | null;
}) {
  if (runs.length === 0) return <p className="muted">No runs recorded.</p>;
  const first = runs[0];
  const last = runs[runs.length - 1];
  const toolErrors = runs.reduce((n, r) => n + r.toolErrorCount, 0);
  const toolCalls = runs.reduce((n, r) => n + r.toolCallCount, 0);
  return (
    <div className="stack" style={{ gap: 12 }} data-testid="run-summary">
      <div className="row wrap muted" style={{ gap: 16, fontSize: 13 }}>
        <span>
          {total} run{total === 1 ? '' : 's'}
          {metrics?.failedRuns ? `, ${metrics.failedRuns} failed` : ''}
        </span>
        <span>
          {toolCalls} tool calls{toolErrors ? `, ${toolErrors} failed` : ''}
        </span>
        {metrics ? <span>{formatTokens(metrics.totalTokens)} tokens</span> : null}
        {metrics ? <span>{formatUSD(metrics.cost)}</span> : <span>{formatUSD(first?.cost)}</span>}
        {metrics ? (
          <span>
            <Term name="timeToCompletion" /> {formatDuration(metrics.timeToCompletionMs)}
          </span>
        ) : null}
        {metrics ? (
          <span>
            <Term name="runTime" /> {formatDuration(metrics.wallTimeMs)}
          </span>
        ) : null}
      </div>
      <Excerpt label="Asked">{first?.promptPreview ?? '—'}</Excerpt>
      <Excerpt label={last?.error ? 'Ended with an error' : 'Outcome'} tone={last?.error ? 'bad' : undefined}>
        {last?.error ?? last?.outcomePreview ?? (last?.status === 'RUNNING' ? 'Still running.' : '—')}
      </Excerpt>
    </div>
  );
}

function Excerpt({ label: title, children, tone }: { label: string; children: ReactNode; tone?: 'bad' | undefined }) {
  return (
    <div>
      <div className="field-label" style={tone === 'bad' ? { color: 'var(--bad)' } : undefined}>
        {title}
      </div>
      <pre className="preview">{children}</pre>
    </div>
  );
}
