// Numbers a user can trust: a rate always comes with its sample size (greyed when small), and a
// duration figure always carries its definition on hover.
import { SMALL_SAMPLE, formatInteger, formatRate } from '../lib/format';
import { TERMS, type TermName } from '../lib/terms';

export function Rate({ value, n, noun = 'reviews' }: { value: number | null | undefined; n: number; noun?: string }) {
  const small = n < SMALL_SAMPLE;
  return (
    <span
      className={small ? 'rate rate-small' : 'rate'}
      data-testid="rate"
      data-small={small}
      title={small ? `Only ${n} ${noun}: fewer than ${SMALL_SAMPLE}, so this rate can swing widely.` : undefined}
    >
      {formatRate(value, n, noun)}
    </span>
  );
}

/** The sample size under a rate shown on its own (a KPI): "23 reviews", greyed when small. */
export function Sample({ n, noun = 'reviews' }: { n: number; noun?: string }) {
  const small = n < SMALL_SAMPLE;
  return (
    <span className={small ? 'rate-small' : undefined} data-testid="sample" title={small ? `Only ${n} ${noun}: this rate can swing widely.` : undefined}>
      {formatInteger(n)} {n === 1 ? noun.replace(/s$/, '') : noun}
    </span>
  );
}

/** The term's label, with its definition on hover (and for screen readers). */
export function Term({ name, children }: { name: TermName; children?: string }) {
  const t = TERMS[name];
  return (
    <abbr className="defined-term" title={t.definition}>
      {children ?? t.label}
    </abbr>
  );
}
