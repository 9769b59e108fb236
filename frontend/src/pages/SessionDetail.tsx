import { useEffect, type ReactNode } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import {
  ArchiveSessionMutation,
  RunDetailQuery,
  SessionDetailQuery,
  SessionUpdatedSubscription,
  UnarchiveSessionMutation,
} from '../api/operations';
import { useAuth } from '../app/auth';
import { KindTag, StatusBadge, VerdictBadge } from '../components/Badges';
import { ReviewComposer, ReviewList } from '../components/Reviews';
import { RequestAiReview } from '../components/AiReview';
import { Transcript } from '../components/Transcript';
import { RunTimeline } from '../components/RunTimeline';
import { RunReviews, RunTranscript } from '../components/RunDetail';
import { Term } from '../components/Numbers';
import { Empty, ErrorBanner } from '../components/States';
import {
  formatDateTime,
  formatDuration,
  formatInteger,
  formatRelative,
  formatTokens,
  formatUSD,
} from '../lib/format';
import { useNow, useQueryParams } from '../lib/hooks';
import { sessionSpan } from '../lib/timeline';
import { transcriptFreshness } from '../lib/transcript';

export default function SessionDetailPage({ id }: { id: string }) {
  const [result, reexecute] = useQuery({ query: SessionDetailQuery, variables: { id } });
  const now = useNow(30_000);
  const { can } = useAuth();
  const client = useClient();
  const session = result.data?.session;
  const agentId = session?.agent.id;
  // The selected run lives in the URL (?run=ID), so a heartbeat can link straight to it.
  const [params, setParams] = useQueryParams();
  const runId = params.get('run');
  // A link to one call (from the Tools page) also names its message: ?run=ID&message=ID.
  const focusMessage = params.get('message');
  const [selectedRun] = useQuery({ query: RunDetailQuery, variables: { id: runId ?? '' }, pause: !runId });
  const selectRun = (id: string | null) => {
    const next = new URLSearchParams(params);
    if (id) next.set('run', id);
    else next.delete('run');
    next.delete('message');
    setParams(next, { push: true });
  };

  // Live: refresh the header and reviews when this session changes.
  useEffect(() => {
    if (!agentId) return;
    const sub = client
      .subscription(SessionUpdatedSubscription, { filter: { agentIds: [agentId] } })
      .subscribe((r) => {
        if (r.data?.sessionUpdated.id === id) reexecute({ requestPolicy: 'network-only' });
      });
    return () => sub.unsubscribe();
  }, [client, agentId, id, reexecute]);

  if (result.error && !session) return <ErrorBanner error={result.error} />;
  if (!result.data) return <div className="muted" aria-busy="true">Loading session…</div>;
  if (!session) {
    return (
      <Empty title="Session not found">
        It may have been removed. <Link href="/sessions">Back to sessions</Link>
      </Empty>
    );
  }

  const freshness = transcriptFreshness(session.transcriptSyncedAt, session.updatedAt);
  const m = session.metrics;

  return (
    <>
      <nav className="breadcrumb" aria-label="Breadcrumb">
        <Link href="/sessions">Sessions</Link>
        <span aria-hidden="true">/</span>
        <span className="truncate">{session.title || session.key}</span>
      </nav>

      <section className="card" aria-labelledby="session-title" style={{ marginBottom: 16 }}>
        <div className="card-pad stack" style={{ gap: 8 }}>
          <div className="row wrap" style={{ justifyContent: 'space-between' }}>
            <div className="row wrap">
              <KindTag kind={session.kind} />
              <h1 id="session-title" data-testid="session-title">
                {session.title || session.key}
              </h1>
              <StatusBadge status={session.status} />
              {session.latestReview ? (
                <VerdictBadge verdict={session.latestReview.verdict} kind={session.latestReview.reviewerKind} />
              ) : null}
            </div>
            {can('sessions:write') ? <ArchiveButton id={session.id} archived={session.status === 'ARCHIVED'} /> : null}
          </div>
          <div className="row wrap muted" style={{ gap: 16 }}>
            <span>
              Agent <strong style={{ color: 'var(--text)' }}>{session.agent.displayName ?? session.agent.id}</strong>
            </span>
            <span>
              Model <strong style={{ color: 'var(--text)' }}>{session.model ?? '—'}</strong>
            </span>
            <span title={formatDateTime(session.startedAt)}>Started {formatDateTime(session.startedAt)}</span>
            {session.endedAt ? <span>Ended {formatDateTime(session.endedAt)}</span> : null}
            <span>Source {session.source}</span>
            {session.channel ? <span>Channel {session.channel}</span> : null}
          </div>
          <code className="muted" style={{ overflowWrap: 'anywhere' }}>
            {session.key}
          </code>
          {session.syncError ? (
            <div className="banner warn" role="status" data-testid="session-sync-error">
              <span>
                The last sync could not read this transcript
                {session.syncErrorAt ? ` (${formatRelative(session.syncErrorAt, now)})` : ''}: {session.syncError}. It is
                retried on every pass; the rest of the source keeps syncing.
              </span>
            </div>
          ) : null}
          {session.parent ? (
            <div className="muted">
              Spawned by{' '}
              <Link href={`/sessions/${session.parent.id}`}>{session.parent.title || session.parent.key}</Link>
            </div>
          ) : session.parentKey ? (
            <div className="muted">
              Spawned by <code>{session.parentKey}</code> (not stored here)
            </div>
          ) : null}
        </div>
        <div className="stats">
          <Stat label="Runs" value={formatInteger(m.runCount)} sub={m.failedRuns ? `${m.failedRuns} failed` : undefined} />
          <Stat
            label="Tokens"
            value={formatTokens(m.totalTokens)}
            sub={`in ${formatTokens(m.inputTokens)} · out ${formatTokens(m.outputTokens)}${
              m.cacheReadTokens ? ` · cache ${formatTokens(m.cacheReadTokens)}` : ''
            }`}
          />
          <Stat label="Cost" value={formatUSD(m.cost)} sub={m.usageComplete || m.runCount === 0 ? undefined : 'some runs unreported'} />
          <Stat label={<Term name="runTime" />} value={formatDuration(m.wallTimeMs)} sub="sum of runs" />
          <Stat
            label={<Term name="timeToCompletion" />}
            value={formatDuration(m.timeToCompletionMs)}
            sub={session.endedAt ? 'first prompt to last answer' : session.status === 'RUNNING' || session.status === 'PENDING' ? 'not finished' : 'no end time reported'}
          />
          <Stat
            label="Transcript cache"
            value={session.transcriptSyncedAt ? formatRelative(session.transcriptSyncedAt, now) : 'never'}
            sub={
              freshness === 'behind'
                ? 'older than the session'
                : freshness === 'never'
                  ? 'not synced yet'
                  : formatDateTime(session.transcriptSyncedAt)
            }
            tone={freshness === 'fresh' ? undefined : 'warn'}
            testId="transcript-freshness"
          />
        </div>
      </section>

      <RunTimeline
        sessionId={session.id}
        span={sessionSpan(session.startedAt, [session.lastRunAt, session.endedAt, session.updatedAt], now)}
        runCount={m.runCount}
        failedRuns={m.failedRuns}
        selected={runId}
        selectedStartedAt={runId ? (selectedRun.data?.run?.startedAt ?? null) : null}
        onSelect={selectRun}
      />

      <div className="detail">
        <section className="card" aria-label={runId ? 'Selected run' : 'Transcript'}>
          {runId ? (
            <RunTranscript
              key={runId}
              runId={runId}
              sessionId={session.id}
              focusMessageId={focusMessage}
              onClose={() => selectRun(null)}
            />
          ) : (
            <Transcript sessionId={session.id} onSelectRun={selectRun} />
          )}
        </section>

        <aside className="stack">
          {runId ? <RunReviews key={runId} runId={runId} sessionId={session.id} /> : null}
          <section className="card" aria-labelledby="reviews-h">
            <div className="card-head">
              <h2 id="reviews-h">Reviews</h2>
              <span className="muted">{session.reviews.length}</span>
            </div>
            <RequestAiReview sessionId={session.id} revision={session.reviews.map((r) => r.id).join(',')} />
            <ReviewList reviews={session.reviews} now={now} />
            <div className="card-pad" style={{ borderTop: '1px solid var(--border)' }}>
              <h3 style={{ marginBottom: 12 }}>{can('reviews:write') ? 'Your review' : 'Write a review'}</h3>
              <ReviewComposer sessionId={session.id} />
            </div>
          </section>

          <section className="card" aria-labelledby="children-h">
            <div className="card-head">
              <h2 id="children-h">Task sessions</h2>
              <span className="muted">{session.childCount}</span>
            </div>
            {session.children.length === 0 ? (
              <div className="empty" style={{ padding: 24 }}>
                No spawned tasks.
              </div>
            ) : (
              <ul className="list-plain" data-testid="children">
                {session.children.map((c) => (
                  <li key={c.id}>
                    <StatusBadge status={c.status} />
                    <Link href={`/sessions/${c.id}`} className="truncate" style={{ flex: 1 }}>
                      {c.title || c.key}
                    </Link>
                    {c.latestReview ? <VerdictBadge verdict={c.latestReview.verdict} /> : null}
                    <span className="muted num">{formatUSD(c.totalCost)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </aside>
      </div>
    </>
  );
}

function Stat({
  label,
  value,
  sub,
  tone,
  testId,
}: {
  label: ReactNode;
  value: string;
  sub?: string | undefined;
  tone?: 'warn' | undefined;
  testId?: string;
}) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value" style={tone === 'warn' ? { color: 'var(--warn)' } : undefined}>
        {value}
      </div>
      {sub ? <div className="stat-sub">{sub}</div> : null}
    </div>
  );
}

function ArchiveButton({ id, archived }: { id: string; archived: boolean }) {
  const [a, archive] = useMutation(ArchiveSessionMutation);
  const [u, unarchive] = useMutation(UnarchiveSessionMutation);
  const busy = a.fetching || u.fetching;
  const error = a.error ?? u.error;
  return (
    <span className="row">
      {error ? <ErrorBanner error={error} /> : null}
      <button
        type="button"
        className="btn btn-sm"
        disabled={busy}
        onClick={() =>
          archived
            ? unarchive({ id }, { additionalTypenames: ['Session'] })
            : archive({ id }, { additionalTypenames: ['Session'] })
        }
      >
        {archived ? 'Unarchive' : 'Archive'}
      </button>
    </span>
  );
}
