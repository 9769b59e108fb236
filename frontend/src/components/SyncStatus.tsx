import { useQuery, useSubscription } from 'urql';
import { SyncStatusQuery, SyncStatusSubscription } from '../api/operations';
import type { SyncSourceFieldsFragment } from '../gql/graphql';
import { formatDateTime, formatRelative } from '../lib/format';
import { label } from './Badges';
import { useNow, usePopover } from '../lib/hooks';

type Health = 'ok' | 'warn' | 'bad' | 'none';

export function healthOf(sources: SyncSourceFieldsFragment[]): Health {
  const enabled = sources.filter((s) => s.enabled);
  if (enabled.length === 0) return 'none';
  if (enabled.some((s) => s.circuitState === 'OPEN')) return 'bad';
  if (enabled.some((s) => s.stale || s.circuitState === 'HALF_OPEN' || s.consecutiveFailures > 0)) return 'warn';
  return 'ok';
}

const HEALTH_TEXT: Record<Health, string> = {
  ok: 'Sync OK',
  warn: 'Sync degraded',
  bad: 'Sync failing',
  none: 'No sync sources',
};

/** Header indicator: last success / last error / circuit state per source, pushed live. */
export function SyncStatus() {
  const [query] = useQuery({ query: SyncStatusQuery });
  const [live] = useSubscription({ query: SyncStatusSubscription });
  const [open, setOpen, root] = usePopover<HTMLDivElement>();
  const now = useNow(30_000);

  const sources = live.data?.syncStatus ?? query.data?.syncStatus;
  if (!sources) return null;
  const health = healthOf(sources);
  const latest = sources
    .map((s) => s.lastSuccessAt)
    .filter((x): x is string => !!x)
    .sort()
    .pop();
  const tone = health === 'ok' ? 'ok' : health === 'none' ? '' : health;

  return (
    <div className="sync" ref={root} onKeyDown={(e) => e.key === 'Escape' && setOpen(false)}>
      <button
        type="button"
        className={`badge badge-dot ${tone}`}
        style={{ border: 0, cursor: 'pointer', font: 'inherit', fontSize: 12 }}
        aria-expanded={open}
        aria-haspopup="true"
        data-testid="sync-status"
        onClick={() => setOpen((o) => !o)}
        title="Sync status"
      >
        {HEALTH_TEXT[health]}
        {latest ? <span className="muted"> · {formatRelative(latest, now)}</span> : null}
      </button>
      {open ? (
        <div className="popover sync-pop" role="dialog" aria-label="Sync sources">
          {sources.length === 0 ? <div className="muted">No sync sources are configured.</div> : null}
          {sources.map((s) => (
            <div className="sync-source" key={s.id}>
              <div className="row" style={{ justifyContent: 'space-between', marginBottom: 6 }}>
                <strong>{s.name}</strong>
                <span className={`badge ${s.circuitState === 'CLOSED' ? 'ok' : s.circuitState === 'OPEN' ? 'bad' : 'warn'}`}>
                  circuit {label(s.circuitState).toLowerCase()}
                </span>
              </div>
              <dl className="kv">
                <dt>Kind</dt>
                <dd>{s.kind}</dd>
                <dt>Last success</dt>
                <dd title={formatDateTime(s.lastSuccessAt)}>
                  {formatRelative(s.lastSuccessAt, now)}
                  {s.stale ? <span className="badge warn" style={{ marginLeft: 6 }}>stale</span> : null}
                </dd>
                <dt>Last attempt</dt>
                <dd>{formatRelative(s.lastAttemptAt, now)}</dd>
                {s.lastError ? (
                  <>
                    <dt>Last error</dt>
                    <dd style={{ color: 'var(--bad)' }}>
                      {s.lastError} <span className="muted">({formatRelative(s.lastErrorAt, now)})</span>
                    </dd>
                  </>
                ) : null}
                {s.consecutiveFailures > 0 ? (
                  <>
                    <dt>Failures</dt>
                    <dd>{s.consecutiveFailures} in a row</dd>
                  </>
                ) : null}
                {s.nextAttemptAt ? (
                  <>
                    <dt>Next attempt</dt>
                    <dd>{formatRelative(s.nextAttemptAt, now)}</dd>
                  </>
                ) : null}
                {!s.enabled ? (
                  <>
                    <dt>State</dt>
                    <dd>disabled</dd>
                  </>
                ) : null}
              </dl>
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}
