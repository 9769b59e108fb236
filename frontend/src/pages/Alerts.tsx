// Alerts: what is firing (live), the rules, a rule created from an agent's row, silences.
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  AlertFiredSubscription,
  AlertsPageQuery,
  CreateAlertRuleMutation,
  CreateAlertSilenceMutation,
  DeleteAlertRuleMutation,
  DeleteAlertSilenceMutation,
  UpdateAlertRuleMutation,
} from '../api/alerts';
import type { AlertRuleFieldsFragment, AlertRuleKind, AlertState } from '../gql/graphql';
import { useAuth } from '../app/auth';
import { Empty, ErrorBanner } from '../components/States';
import { KINDS, KIND_ORDER, formatAlertValue, thresholdFromInput, thresholdToInput } from '../lib/alerts';
import { describeError, fieldErrors } from '../lib/errors';
import { formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';

const CTX = { additionalTypenames: ['AlertRule', 'Alert', 'AlertSilence'] };

export default function AlertsPage() {
  const { can } = useAuth();
  const canWrite = can('alerts:write');
  const [state, setState] = useState<AlertState | null>('FIRING');
  const [result, refetch] = useQuery({ query: AlertsPageQuery, variables: { state, first: 50 }, context: CTX });
  const [fired] = useSubscription({ query: AlertFiredSubscription });
  const firedId = fired.data?.alertFired.id;
  useEffect(() => {
    if (firedId) refetch({ requestPolicy: 'network-only' });
  }, [firedId, refetch]);
  const [draftAgent, setDraftAgent] = useState<string | null | undefined>(undefined);
  const d = result.data;
  const now = useNow(30_000);

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Alerts</h1>
          <p>Rules evaluated every few seconds; firing and resolved alerts go to your webhooks.</p>
        </div>
      </div>
      {result.error ? <ErrorBanner error={result.error} /> : null}
      <div className="stack" style={{ gap: 16 }}>
        <section className="card" aria-labelledby="alerts-h">
          <div className="card-head">
            <h2 id="alerts-h">{state === 'FIRING' ? 'Firing now' : 'History'}</h2>
            <div className="row" role="group" aria-label="Alert state">
              {(['FIRING', null] as const).map((s) => (
                <button
                  key={s ?? 'all'}
                  type="button"
                  className="btn small"
                  aria-pressed={state === s}
                  onClick={() => setState(s)}
                >
                  {s === 'FIRING' ? 'Firing' : 'All'}
                </button>
              ))}
            </div>
          </div>
          {d && d.alerts.edges.length === 0 ? (
            <Empty title={state === 'FIRING' ? 'Nothing is firing' : 'No alerts yet'} />
          ) : (
            <div className="table-wrap">
              <table className="data auto" data-testid="alerts-table">
                <thead>
                  <tr>
                    <th scope="col">State</th>
                    <th scope="col">Rule</th>
                    <th scope="col">What</th>
                    <th scope="col">Value</th>
                    <th scope="col">Fired</th>
                  </tr>
                </thead>
                <tbody>
                  {(d?.alerts.edges ?? []).map(({ node: a }) => (
                    <tr key={a.id} data-testid="alert-row">
                      <td>
                        <span className={`badge ${a.state === 'FIRING' ? 'bad' : 'ok'}`}>{a.state.toLowerCase()}</span>
                        {a.silenced ? <span className="badge"> silenced</span> : null}
                      </td>
                      <td>{a.rule.name}</td>
                      <td>{a.message}</td>
                      <td className="num">{formatAlertValue(a.rule.kind, a.value)}</td>
                      <td className="muted nowrap" title={formatDateTime(a.firedAt)}>
                        {formatRelative(a.firedAt, now)}
                        {a.resolvedAt ? ` · resolved ${formatRelative(a.resolvedAt, now)}` : ''}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>

        <section className="card" aria-labelledby="rules-h">
          <div className="card-head">
            <h2 id="rules-h">Rules</h2>
            {canWrite ? (
              <button type="button" className="btn small" onClick={() => setDraftAgent(null)}>
                New rule for all agents
              </button>
            ) : null}
          </div>
          <div className="card-pad stack">
            {draftAgent !== undefined ? <RuleForm agentId={draftAgent} onDone={() => setDraftAgent(undefined)} /> : null}
            {(d?.alertRules ?? []).length === 0 ? (
              <p className="muted">No rules yet. Create one from an agent’s row below.</p>
            ) : (
              <table className="data auto" data-testid="rules-table">
                <thead>
                  <tr>
                    <th scope="col">Rule</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Fires at</th>
                    <th scope="col">On</th>
                    <th scope="col" />
                  </tr>
                </thead>
                <tbody>
                  {(d?.alertRules ?? []).map((r) => (
                    <RuleRow key={r.id} rule={r} canWrite={canWrite} />
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </section>

        <section className="card" aria-labelledby="agents-h">
          <div className="card-head">
            <h2 id="agents-h">Agents</h2>
          </div>
          <table className="data auto" data-testid="alert-agents">
            <tbody>
              {(d?.agents ?? []).map((a) => {
                const rules = (d?.alertRules ?? []).filter((r) => r.agentId === a.id).length;
                return (
                  <tr key={a.id} data-testid="alert-agent-row" data-agent={a.id}>
                    <td>{a.displayName ?? a.id}</td>
                    <td className="muted">{rules === 1 ? '1 rule' : `${rules} rules`}</td>
                    <td>
                      {canWrite ? (
                        <div className="row" style={{ gap: 6 }}>
                          <button type="button" className="btn small" onClick={() => setDraftAgent(a.id)}>
                            Create rule
                          </button>
                          <SilenceButton agentId={a.id} />
                        </div>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>

        <Silences silences={d?.alertSilences ?? []} canWrite={canWrite} />
      </div>
    </>
  );
}

function RuleForm({ agentId, onDone }: { agentId: string | null; onDone: () => void }) {
  const [kind, setKind] = useState<AlertRuleKind>('HEARTBEAT_MISSED');
  const info = KINDS[kind];
  const [threshold, setThreshold] = useState(thresholdToInput(kind, info.threshold));
  const [windowMinutes, setWindowMinutes] = useState(String(info.windowMinutes));
  const [minSample, setMinSample] = useState(String(info.minSample));
  const [name, setName] = useState('');
  const [result, create] = useMutation(CreateAlertRuleMutation);
  const errors = fieldErrors(result.error);
  const [local, setLocal] = useState<string | null>(null);

  const pickKind = (k: AlertRuleKind) => {
    setKind(k);
    setThreshold(thresholdToInput(k, KINDS[k].threshold));
    setWindowMinutes(String(KINDS[k].windowMinutes));
    setMinSample(String(KINDS[k].minSample));
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const value = thresholdFromInput(kind, threshold);
    if (value === null) {
      setLocal('Enter a threshold above zero.');
      return;
    }
    setLocal(null);
    const r = await create(
      {
        input: {
          name: name.trim() || `${agentId ?? 'all agents'}: ${info.label.toLowerCase()}`,
          kind,
          agentId,
          threshold: value,
          windowSeconds: Math.round(Number(windowMinutes) * 60),
          minSample: Math.round(Number(minSample)),
        },
      },
      CTX,
    );
    if (!r.error) onDone();
  };

  return (
    <form className="card card-pad stack" onSubmit={submit} data-testid="rule-form" aria-label="New alert rule">
      <strong>New rule for {agentId ?? 'all agents'}</strong>
      <div className="row" style={{ gap: 12, flexWrap: 'wrap' }}>
        <label className="stack">
          Kind
          <select className="input" value={kind} onChange={(e) => pickKind(e.target.value as AlertRuleKind)}>
            {KIND_ORDER.map((k) => (
              <option key={k} value={k}>
                {KINDS[k].label}
              </option>
            ))}
          </select>
        </label>
        <label className="stack">
          Threshold ({info.unit}{kind === 'FAILURE_RATE' || kind === 'DISAGREEMENT' || kind === 'TOOL_ERROR_RATE' ? ', %' : ''})
          <input className="input" value={threshold} onChange={(e) => setThreshold(e.target.value)} aria-invalid={errors.threshold || local ? true : undefined} />
        </label>
        <label className="stack">
          Window (minutes)
          <input className="input" type="number" min={1} value={windowMinutes} onChange={(e) => setWindowMinutes(e.target.value)} />
        </label>
        <label className="stack">
          Minimum sample
          <input className="input" type="number" min={1} value={minSample} onChange={(e) => setMinSample(e.target.value)} />
        </label>
        <label className="stack">
          Name
          <input className="input" value={name} placeholder="optional" onChange={(e) => setName(e.target.value)} />
        </label>
      </div>
      <p className="muted" style={{ margin: 0 }}>{info.help}</p>
      {local || result.error ? (
        <span className="field-error" role="alert">
          {local ?? Object.values(errors)[0] ?? describeError(result.error)}
        </span>
      ) : null}
      <div className="row" style={{ gap: 8 }}>
        <button type="submit" className="btn primary" disabled={result.fetching}>
          Create rule
        </button>
        <button type="button" className="btn" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function RuleRow({ rule, canWrite }: { rule: AlertRuleFieldsFragment; canWrite: boolean }) {
  const [updated, update] = useMutation(UpdateAlertRuleMutation);
  const [deleted, remove] = useMutation(DeleteAlertRuleMutation);
  const toggle = (enabled: boolean) => {
    const { id, name, kind, agentId, threshold, windowSeconds, minSample, resolveRatio } = rule;
    void update({ id, input: { name, kind, agentId, threshold, windowSeconds, minSample, resolveRatio, enabled } }, CTX);
  };
  return (
    <tr data-testid="rule-row">
      <td>
        {rule.name}
        <div className="muted">{KINDS[rule.kind].label}</div>
      </td>
      <td>{rule.agentId ?? 'all agents'}</td>
      <td className="num">{formatAlertValue(rule.kind, rule.threshold)}</td>
      <td>
        <input
          type="checkbox"
          role="switch"
          aria-label={`Rule ${rule.name} enabled`}
          checked={rule.enabled}
          disabled={!canWrite || updated.fetching}
          onChange={(e) => toggle(e.target.checked)}
        />
      </td>
      <td>
        {canWrite ? (
          <button type="button" className="btn small" disabled={deleted.fetching} onClick={() => void remove({ id: rule.id }, CTX)}>
            Delete
          </button>
        ) : null}
        {updated.error || deleted.error ? <span className="field-error">{describeError(updated.error ?? deleted.error)}</span> : null}
      </td>
    </tr>
  );
}

function SilenceButton({ agentId }: { agentId: string }) {
  const [result, silence] = useMutation(CreateAlertSilenceMutation);
  const mute = () => {
    const endsAt = new Date(Date.now() + 2 * 3600_000).toISOString();
    void silence({ input: { agentId, endsAt, reason: 'silenced from the dashboard' } }, CTX);
  };
  return (
    <button type="button" className="btn small" disabled={result.fetching} onClick={mute} title="Mute this agent's alerts for 2 hours">
      Silence 2 h
    </button>
  );
}

function Silences({
  silences,
  canWrite,
}: {
  silences: Array<{ id: string; agentId: string | null; ruleId: string | null; endsAt: string; reason: string; active: boolean }>;
  canWrite: boolean;
}) {
  const [, end] = useMutation(DeleteAlertSilenceMutation);
  return (
    <section className="card" aria-labelledby="silences-h">
      <div className="card-head">
        <h2 id="silences-h">Silences</h2>
      </div>
      <div className="card-pad">
        {silences.length === 0 ? (
          <p className="muted" style={{ margin: 0 }}>None.</p>
        ) : (
          <ul className="list-plain" data-testid="silences">
            {silences.map((s) => (
              <li key={s.id} className="row" style={{ gap: 8 }}>
                <span className={`badge ${s.active ? 'warn' : ''}`}>{s.active ? 'active' : 'scheduled'}</span>
                <span>
                  {s.agentId ?? 'all agents'}
                  {s.ruleId ? ` · rule #${s.ruleId}` : ''} until {formatDateTime(s.endsAt, { short: true })}
                </span>
                <span className="muted">{s.reason}</span>
                {canWrite ? (
                  <button type="button" className="btn small" onClick={() => void end({ id: s.id }, CTX)}>
                    End now
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
