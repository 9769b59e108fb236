// "Improve": did the agents get better? Two windows side by side (what changed, and whether it
// is more than noise), how far the AI judge agrees with humans, the recurring problems, the
// suggestions made from them with their measured impact, and the per-agent AI review switch.
import '../charts/register-improve';
import { useUrlWindow } from '../lib/hooks';
import { SPANS, customParams, rangeLabel, resolveWindows, writeDayRange, type Range, type Windows } from '../lib/compare';
import { toDayParam } from '../lib/period';
import { AgreementSection } from './improve/Agreement';
import { AiPolicySection } from './improve/AiPolicy';
import { ChangesSection, GROUPS, type GroupBy } from './improve/Changes';
import { PatternsSection } from './improve/Patterns';
import { ProposalsSection } from './improve/Proposals';
import { SuggestionsSection } from './improve/Suggestions';

const SECTIONS = [
  ['changes', 'What changed'],
  ['agreement', 'Judge vs human'],
  ['patterns', 'Patterns'],
  ['proposals', 'AI proposals'],
  ['suggestions', 'Suggestions'],
  ['ai-review', 'AI review'],
] as const;

export default function ImprovePage() {
  const [windows, params, set] = useUrlWindow(resolveWindows);
  const by = params.get('by') ?? '';
  const groupBy: GroupBy = (GROUPS as readonly string[]).includes(by) ? (by as GroupBy) : '';

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Improve</h1>
          <p data-testid="windows-label">
            <span className="window-tag a">Before</span> {rangeLabel(windows.a)} <span className="muted">vs</span>{' '}
            <span className="window-tag b">After</span> {rangeLabel(windows.b)} <span className="muted">(UTC)</span>
          </p>
        </div>
        <PeriodPicker windows={windows} onChange={set} />
      </div>
      <nav className="subnav" aria-label="Sections">
        {SECTIONS.map(([id, text]) => (
          <a key={id} href={`#${id}`} onClick={(e) => {
            e.preventDefault();
            document.getElementById(id)?.scrollIntoView({ behavior: 'smooth', block: 'start' });
          }}>
            {text}
          </a>
        ))}
      </nav>
      <div className="stack" style={{ gap: 16 }}>
        <ChangesSection
          windows={windows}
          groupBy={groupBy}
          metric={params.get('metric')}
          onGroupBy={(g) => set({ by: g || null, metric: null })}
          onMetric={(m) => set({ metric: m })}
        />
        <AgreementSection windows={windows} />
        <PatternsSection window={windows.b} />
        <ProposalsSection window={windows.b} />
        <SuggestionsSection window={windows.b} />
        <AiPolicySection />
      </div>
    </>
  );
}

function PeriodPicker({ windows, onChange }: { windows: Windows; onChange: (patch: Record<string, string | null>) => void }) {
  const custom = windows.key === 'custom';
  const edit = (which: 'a' | 'b', end: 'from' | 'to', day: string) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return;
    const cur = customParams(windows);
    const r: Range = which === 'a' ? windows.a : windows.b;
    const from = end === 'from' ? new Date(`${day}T00:00:00Z`) : r.from;
    const to = end === 'to' ? new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000) : r.to;
    if (from >= to) return;
    onChange({ span: 'custom', ...cur, [which]: writeDayRange({ from, to }) });
  };
  const day = (d: Date) => toDayParam(d);
  const lastDay = (r: Range) => toDayParam(new Date(r.to.getTime() - 1));
  return (
    <div className="stack" style={{ gap: 8, alignItems: 'flex-end' }}>
      <div className="segmented" role="group" aria-label="Compare" data-testid="window-picker">
        {SPANS.map((n) => (
          <button type="button" key={n} aria-pressed={windows.key === n} onClick={() => onChange({ span: n === 7 ? null : String(n), a: null, b: null })}>
            {n} d vs {n} d before
          </button>
        ))}
        <button type="button" aria-pressed={custom} onClick={() => onChange({ span: 'custom', ...customParams(windows) })}>
          Custom
        </button>
      </div>
      {custom ? (
        <div className="row wrap window-inputs">
          <span className="window-tag a">Before</span>
          <input type="date" className="input" aria-label="Before: from" value={day(windows.a.from)} onChange={(e) => edit('a', 'from', e.target.value)} />
          <span className="muted">–</span>
          <input type="date" className="input" aria-label="Before: to" value={lastDay(windows.a)} onChange={(e) => edit('a', 'to', e.target.value)} />
          <span className="window-tag b">After</span>
          <input type="date" className="input" aria-label="After: from" value={day(windows.b.from)} onChange={(e) => edit('b', 'from', e.target.value)} />
          <span className="muted">–</span>
          <input type="date" className="input" aria-label="After: to" value={lastDay(windows.b)} onChange={(e) => edit('b', 'to', e.target.value)} />
        </div>
      ) : null}
    </div>
  );
}
