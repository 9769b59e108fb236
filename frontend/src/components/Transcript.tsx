// The cached transcript of a session, or of one run (e.g. a heartbeat): paged from the API
// and virtualised. Used by session detail and by the review queue's panel.
import { useVirtualizer } from '@tanstack/react-virtual';
import type { CombinedError } from '@urql/core';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient } from 'urql';
import { RunTranscriptQuery, TranscriptQuery } from '../api/operations';
import type { TranscriptQuery as TranscriptResult } from '../gql/graphql';
import { Empty, ErrorBanner } from './States';
import { formatDateTime, formatInteger, formatTokens, formatUSD } from '../lib/format';
import { argumentsPreview, prettyArguments, toolResultName } from '../lib/transcript';

type Message = NonNullable<TranscriptResult['session']>['messages']['edges'][number]['node'];
const PAGE = 200;
interface ConnHolder {
  messages: NonNullable<TranscriptResult['session']>['messages'];
}

/**
 * The cached transcript, paged from the API (200 at a time, fetched as you scroll) and
 * virtualised: only the visible messages are in the DOM, so 5,000 messages scroll smoothly.
 */
export function Transcript({
  sessionId,
  runId = null,
  title = 'Transcript',
  compact = false,
  onSelectRun,
  focusMessageId = null,
}: {
  sessionId: string;
  /** In the whole-session view, messages are grouped by run under a header that opens the run. */
  onSelectRun?: (runId: string) => void;
  /** Page on until this message is loaded, scroll it into view and mark it (links to a call). */
  focusMessageId?: string | null;
  /** Only this run's part of the transcript. */
  runId?: string | null;
  title?: string;
  /** A shorter scroll box (for the review queue's panel). */
  compact?: boolean;
}) {
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
      const vars = { first: PAGE, after };
      const opts = { requestPolicy: 'network-only' as const };
      const r = runId
        ? await client.query(RunTranscriptQuery, { id: runId, ...vars }, opts).toPromise()
        : await client.query(TranscriptQuery, { id: sessionId, ...vars }, opts).toPromise();
      inflight.current = false;
      setLoading(false);
      if (gen !== generationRef.current) return;
      if (r.error) {
        setError(r.error);
        return;
      }
      const data = r.data as { session?: ConnHolder | null; run?: ConnHolder | null } | undefined;
      const conn = (runId ? data?.run : data?.session)?.messages;
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
    [client, sessionId, runId],
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

  // A linked message: keep paging until it is loaded, then scroll to it once.
  const focusIndex = focusMessageId ? messages.findIndex((m) => m.id === focusMessageId) : -1;
  const scrolledTo = useRef<string | null>(null);
  useEffect(() => {
    if (!focusMessageId || focusIndex >= 0 || !hasMore || loading || error || messages.length === 0) return;
    void load(cursor, generation);
  }, [focusMessageId, focusIndex, hasMore, loading, error, messages.length, cursor, load, generation]);
  useEffect(() => {
    if (focusIndex < 0 || scrolledTo.current === focusMessageId) return;
    scrolledTo.current = focusMessageId;
    virtualizer.scrollToIndex(focusIndex, { align: 'center' });
  }, [focusIndex, focusMessageId, virtualizer]);

  // Fetch the next page when the loader row scrolls into view.
  useEffect(() => {
    if (last && last.index >= messages.length - 1 && hasMore && !loading && !error && messages.length > 0) {
      void load(cursor, generation);
    }
  }, [last, messages.length, hasMore, loading, error, cursor, load, generation]);

  return (
    <>
      <div className="card-head">
        <h2>{title}</h2>
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
        <div className={compact ? 'transcript transcript-compact' : 'transcript'} ref={parent} data-testid="transcript" tabIndex={0} aria-label="Transcript messages">
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
                    <>
                      {onSelectRun && msg.runId && msg.runId !== messages[item.index - 1]?.runId ? (
                        <RunDivider runId={msg.runId} at={msg.createdAt} onSelect={onSelectRun} />
                      ) : null}
                      <MessageView msg={msg} focused={msg.id === focusMessageId} />
                    </>
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

function RunDivider({ runId, at, onSelect }: { runId: string; at: string; onSelect: (runId: string) => void }) {
  return (
    <div className="run-divider" data-testid="run-divider">
      <span>Run from {formatDateTime(at, { short: true })}</span>
      <button type="button" className="btn btn-sm btn-ghost" onClick={() => onSelect(runId)}>
        Open run
      </button>
    </div>
  );
}

const ROLE_LABEL: Record<Message['role'], string> = {
  USER: 'User',
  ASSISTANT: 'Assistant',
  TOOL_RESULT: 'Tool result',
  SYSTEM: 'System',
};

function MessageView({ msg, focused = false }: { msg: Message; focused?: boolean }) {
  const tool = msg.role === 'TOOL_RESULT' ? toolResultName(msg.content) : null;
  return (
    <article
      className={focused ? 'msg msg-focused' : 'msg'}
      data-role={msg.role}
      data-error={msg.isError}
      data-focused={focused || undefined}
      data-testid="message"
      aria-current={focused ? 'true' : undefined}
    >
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
