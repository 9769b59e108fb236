// AI review per agent: switch it on, choose whether finished tasks are reviewed and what share
// of heartbeats is sampled; below, the latest AI review jobs (followed live while any runs).
import { useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import { ReviewJobUpdatedSubscription, ReviewJobsQuery, ReviewPoliciesQuery, SetReviewPolicyMutation } from '../../api/operations';
import type { ReviewPolicyFieldsFragment } from '../../gql/graphql';
import { useAuth } from '../../app/auth';
import { ErrorBanner } from '../../components/States';
import { fieldErrors, describeError } from '../../lib/errors';
import { formatDateTime, formatPercent, formatRelative } from '../../lib/format';
import { useNow } from '../../lib/hooks';

const POLICY_CTX = { additionalTypenames: ['ReviewPolicy'] };
const JOB_TONE: Record<string, string> = { queued: 'info', running: 'info', done: 'ok', failed: 'bad' };

export function AiPolicySection() {
  const { can } = useAuth();
  const canWrite = can('reviews:write');
  // An empty policy list carries no ReviewPolicy typename: name it, so saving one refetches.
  const [result] = useQuery({ query: ReviewPoliciesQuery, context: POLICY_CTX });
  const d = result.data;
  const settings = d?.reviewerSettings;
  const byAgent = new Map((d?.reviewPolicies ?? []).map((p) => [p.agentId, p]));

  return (
    <section className="card improve-section" id="ai-review" aria-labelledby="ai-h">
      <div className="card-head">
        <h2 id="ai-h">AI review</h2>
        {settings ? (
          settings.configured ? (
            <span className="badge ok" data-testid="ai-configured">
              Reviewer: {settings.model ?? 'configured'}
            </span>
          ) : (
            <span className="badge warn" data-testid="ai-not-configured-policy">
              No AI endpoint configured
            </span>
          )
        ) : null}
      </div>
      <div className="card-pad stack">
        {result.error ? <ErrorBanner error={result.error} /> : null}
        {settings && !settings.configured ? (
          <div className="banner banner-block warn">
            The server has no AI reviewer endpoint (<code>OBSERVATORY_AI_BASE_URL</code>), so no AI review runs. The switches below
            are saved and take effect once one is set.
          </div>
        ) : null}
        <div className="table-wrap">
          <table className="data auto" data-testid="policy-table">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">AI review</th>
                <th scope="col">Finished tasks</th>
                <th scope="col">Heartbeat sample</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {(d?.agents ?? []).map((a) => (
                <PolicyRow
                  key={a.id}
                  agentId={a.id}
                  name={a.displayName ?? a.id}
                  policy={byAgent.get(a.id) ?? null}
                  defaultRate={settings?.defaultHeartbeatSampleRate ?? 0.1}
                  canWrite={canWrite}
                />
              ))}
            </tbody>
          </table>
        </div>
        <RecentJobs />
      </div>
    </section>
  );
}

function PolicyRow({
  agentId,
  name,
  policy,
  defaultRate,
  canWrite,
}: {
  agentId: string;
  name: string;
  policy: ReviewPolicyFieldsFragment | null;
  defaultRate: number;
  canWrite: boolean;
}) {
  const [result, save] = useMutation(SetReviewPolicyMutation);
  // Shown at once while the change is saved; the server's answer replaces it.
  const [pending, setPending] = useState<{ enabled?: boolean; reviewTasks?: boolean } | null>(null);
  const enabled = pending?.enabled ?? policy?.enabled ?? false;
  const reviewTasks = pending?.reviewTasks ?? policy?.reviewTasks ?? true;
  const rate = policy?.heartbeatSampleRate ?? null;
  const [rateText, setRateText] = useState(rate === null ? '' : String(Math.round(rate * 1000) / 10));
  useEffect(() => setRateText(rate === null ? '' : String(Math.round(rate * 1000) / 10)), [rate]);
  const errors = fieldErrors(result.error);

  const commit = async (patch: { enabled?: boolean; reviewTasks?: boolean; rate?: number | null }) => {
    setPending({ enabled: patch.enabled ?? enabled, reviewTasks: patch.reviewTasks ?? reviewTasks });
    const r = await save(
      {
        agentId,
        enabled: patch.enabled ?? enabled,
        reviewTasks: patch.reviewTasks ?? reviewTasks,
        heartbeatSampleRate: patch.rate !== undefined ? patch.rate : rate,
      },
      { additionalTypenames: ['ReviewPolicy'] },
    );
    if (r.error) setPending(null);
  };
  // The refetched policy replaces the optimistic values.
  const updatedAt = policy?.updatedAt;
  useEffect(() => setPending(null), [updatedAt]);
  const [localError, setLocalError] = useState<string | null>(null);
  const commitRate = () => {
    const t = rateText.trim();
    const next = t === '' ? null : Number(t) / 100;
    if (next !== null && (!Number.isFinite(next) || next < 0 || next > 1)) {
      setLocalError('Enter a share from 0 to 100 %, or leave it empty for the default.');
      return;
    }
    setLocalError(null);
    if (next !== rate) void commit({ rate: next });
  };

  return (
    <tr data-testid="policy-row" data-agent={agentId}>
      <td>{name}</td>
      <td>
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={enabled}
            disabled={!canWrite || result.fetching}
            aria-label={`AI review for ${name}`}
            onChange={(e) => void commit({ enabled: e.target.checked })}
          />
          <span className="switch-track" aria-hidden="true" />
          <span>{enabled ? 'On' : 'Off'}</span>
        </label>
      </td>
      <td>
        <label className="row" style={{ gap: 6 }}>
          <input
            type="checkbox"
            checked={reviewTasks}
            disabled={!canWrite || result.fetching}
            onChange={(e) => void commit({ reviewTasks: e.target.checked })}
          />
          Review every finished task
        </label>
      </td>
      <td>
        <div className="row" style={{ gap: 6 }}>
          <input
            type="number"
            className="input"
            style={{ width: 84 }}
            min={0}
            max={100}
            step={1}
            value={rateText}
            placeholder={String(Math.round(defaultRate * 100))}
            disabled={!canWrite || result.fetching}
            aria-label={`Heartbeat sample rate for ${name} (%)`}
            aria-invalid={errors.heartbeatSampleRate || localError ? true : undefined}
            onChange={(e) => setRateText(e.target.value)}
            onBlur={commitRate}
            onKeyDown={(e) => {
              if (e.key === 'Enter') commitRate();
            }}
          />
          <span className="muted">% {rate === null ? `(default ${formatPercent(defaultRate)})` : ''}</span>
        </div>
        {localError || result.error ? (
          <span className="field-error" role="alert">
            {localError ?? errors.heartbeatSampleRate ?? describeError(result.error)}
          </span>
        ) : null}
      </td>
      <td className="muted nowrap">{policy ? (policy.enabled ? formatDateTime(policy.enabledAt, { short: true }) : 'off') : 'never set'}</td>
    </tr>
  );
}

function RecentJobs() {
  const [result, refetch] = useQuery({ query: ReviewJobsQuery, variables: { first: 8 }, requestPolicy: 'cache-and-network' });
  const jobs = result.data?.reviewJobs ?? [];
  const now = useNow(15_000);
  // Any job change is pushed; re-read the latest eight then (no polling).
  const [live] = useSubscription({ query: ReviewJobUpdatedSubscription });
  useEffect(() => {
    if (live.data) refetch({ requestPolicy: 'network-only' });
  }, [live.data, refetch]);
  return (
    <div>
      <h3 style={{ marginBottom: 8 }}>Latest AI review jobs</h3>
      {jobs.length === 0 ? (
        <p className="muted" style={{ margin: 0 }}>
          None yet. Jobs appear here when the policy picks a session or someone presses “Request AI review” on one.
        </p>
      ) : (
        <ul className="list-plain card" data-testid="review-jobs">
          {jobs.map((j) => (
            <li key={j.id}>
              <span className={`badge ${JOB_TONE[j.status] ?? ''}`}>{j.status}</span>
              <Link href={`/sessions/${j.sessionId}`}>
                Session #{j.sessionId}
                {j.runId ? ` · run #${j.runId}` : ''}
              </Link>
              <span className="muted truncate" style={{ flex: 1 }}>
                {j.status === 'failed' && j.reason ? j.reason : j.attempts > 1 ? `${j.attempts} attempts` : ''}
              </span>
              <span className="muted" title={formatDateTime(j.createdAt)}>
                {formatRelative(j.finishedAt ?? j.createdAt, now)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
