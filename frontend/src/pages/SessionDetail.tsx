import { useVirtualizer } from '@tanstack/react-virtual';
import type { CombinedError } from '@urql/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import {
  ArchiveSessionMutation,
  SessionDetailQuery,
  SessionUpdatedSubscription,
  TranscriptQuery,
  UnarchiveSessionMutation,
} from '../api/operations';
import type { TranscriptQuery as TranscriptResult } from '../gql/graphql';
import { useAuth } from '../app/auth';
import { KindTag, StatusBadge, VerdictBadge } from '../components/Badges';
import { ReviewComposer, ReviewList } from '../components/Reviews';
import { Empty, ErrorBanner } from '../components/States';
import {
  formatDateTime,
  formatDuration,
  formatInteger,
  formatRelative,
  formatTokens,
  formatUSD,
} from '../lib/format';
import { useNow } from '../lib/hooks';
import { argumentsPreview, prettyArguments, toolResultName, transcriptFreshness } from '../lib/transcript';

export default function SessionDetailPage({ id }: { id: string }) {
  const [result, reexecute] = useQuery({ query: SessionDetailQuery, variables: { id } });
  const now = useNow(30_000);
  const { can } = useAuth();
  const client = useClient();
  const session = result.data?.session;
  const agentId = session?.agent.id;

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
          <Stat label="Run time" value={formatDuration(m.wallTimeMs)} sub="sum of runs" />
          <Stat label="Time to completion" value={formatDuration(m.timeToCompletionMs)} sub={session.endedAt ? undefined : session.status === 'RUNNING' || session.status === 'PENDING' ? 'not finished' : 'no end time reported'} />
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

      <div className="detail">
        <section className="card" aria-label="Transcript">
          <Transcript sessionId={session.id} />
        </section>

        <aside className="stack">
          <section className="card" aria-labelledby="reviews-h">
            <div className="card-head">
              <h2 id="reviews-h">Reviews</h2>
              <span className="muted">{session.reviews.length}</span>
            </div>
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
  label: string;
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

type Message = NonNullable<TranscriptResult['session']>['messages']['edges'][number]['node'];
const PAGE = 200;

/**
 * The cached transcript, paged from the API (200 at a time, fetched as you scroll) and
 * virtualised: only the visible messages are in the DOM, so 5,000 messages scroll smoothly.
 */
function Transcript({ sessionId }: { sessionId: string }) {
  const client = useClient();
  const [messages, setMessages] = useState<Message[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<CombinedError | undefined>();
  const [generation, setGeneration] = useState(0);
  const inflight = useRef(false);
  const parent = useRef<HTMLDivElement>(null);
  const generationRef = useRef(generation);
  generationRef.current = generation;

  const load = useCallback(
    async (after: string | null, gen: number) => {
      if (inflight.current) return;
      inflight.current = true;
      setLoading(true);
      const r = await client
        .query(TranscriptQuery, { id: sessionId, first: PAGE, after }, { requestPolicy: 'network-only' })
        .toPromise();
      inflight.current = false;
      setLoading(false);
      if (gen !== generationRef.current) return;
      if (r.error) {
        setError(r.error);
        return;
      }
      const conn = r.data?.session?.messages;
      if (!conn) {
        setHasMore(false);
        return;
      }
      setError(undefined);
      setTotal(conn.totalCount);
      setMessages((prev) => (after ? [...prev, ...conn.edges.map((e) => e.node)] : conn.edges.map((e) => e.node)));
      setCursor(conn.pageInfo.endCursor ?? null);
      setHasMore(conn.pageInfo.hasNextPage);
    },
    [client, sessionId],
  );

  useEffect(() => {
    setMessages([]);
    setCursor(null);
    setHasMore(true);
    setTotal(null);
    void load(null, generation);
  }, [load, generation]);

  const count = messages.length + (hasMore ? 1 : 0);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => parent.current,
    estimateSize: () => 110,
    overscan: 6,
    getItemKey: (i) => messages[i]?.id ?? `loader-${i}`,
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];

  // Fetch the next page when the loader row scrolls into view.
  useEffect(() => {
    if (last && last.index >= messages.length - 1 && hasMore && !loading && !error && messages.length > 0) {
      void load(cursor, generation);
    }
  }, [last, messages.length, hasMore, loading, error, cursor, load, generation]);

  return (
    <>
      <div className="card-head">
        <h2>Transcript</h2>
        <div className="row">
          <span className="muted" data-testid="transcript-count">
            {total === null ? '' : `${formatInteger(messages.length)} of ${formatInteger(total)} messages`}
          </span>
          <button type="button" className="btn btn-sm btn-ghost" onClick={() => setGeneration((g) => g + 1)}>
            Refresh
          </button>
        </div>
      </div>
      {error ? (
        <div style={{ padding: 16 }}>
          <ErrorBanner error={error} />
        </div>
      ) : null}
      {total === 0 ? (
        <Empty title="No transcript cached">The provider has not sent messages for this session yet.</Empty>
      ) : (
        <div className="transcript" ref={parent} data-testid="transcript" tabIndex={0} aria-label="Transcript messages">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative', width: '100%' }}>
            {items.map((item) => {
              const msg = messages[item.index];
              return (
                <div
                  key={item.key}
                  data-index={item.index}
                  ref={virtualizer.measureElement}
                  style={{ position: 'absolute', top: 0, left: 0, width: '100%', transform: `translateY(${item.start}px)` }}
                >
                  {msg ? (
                    <MessageView msg={msg} />
                  ) : (
                    <div className="msg muted" aria-busy="true">
                      Loading more messages…
                    </div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </>
  );
}

const ROLE_LABEL: Record<Message['role'], string> = {
  USER: 'User',
  ASSISTANT: 'Assistant',
  TOOL_RESULT: 'Tool result',
  SYSTEM: 'System',
};

function MessageView({ msg }: { msg: Message }) {
  const tool = msg.role === 'TOOL_RESULT' ? toolResultName(msg.content) : null;
  return (
    <article className="msg" data-role={msg.role} data-error={msg.isError} data-testid="message">
      <header className="msg-head">
        <span className="msg-role">{ROLE_LABEL[msg.role]}</span>
        {tool ? <code>{tool}</code> : null}
        {msg.isError ? <span className="badge bad">error</span> : null}
        <span title={formatDateTime(msg.createdAt)}>{formatDateTime(msg.createdAt, { short: true })}</span>
        {msg.model ? <span>{msg.model}</span> : null}
        {msg.outputTokens !== null || msg.inputTokens !== null ? (
          <span>
            {formatTokens(msg.inputTokens)} in · {formatTokens(msg.outputTokens)} out
          </span>
        ) : null}
        {msg.cost !== null ? <span>{formatUSD(msg.cost)}</span> : null}
        <span style={{ marginLeft: 'auto' }}>#{msg.seq}</span>
      </header>
      {msg.text ? <pre className="msg-text">{msg.text}</pre> : null}
      {msg.toolCalls.map((call, i) => (
        <details className="tool-call" key={call.id ?? i}>
          <summary>
            <strong>{call.name}</strong> <span className="muted">{argumentsPreview(call.arguments)}</span>
          </summary>
          <pre>{prettyArguments(call.arguments)}</pre>
        </details>
      ))}
    </article>
  );
}
