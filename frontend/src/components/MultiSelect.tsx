import { useId, useRef } from 'react';
import { usePopover } from '../lib/hooks';

interface Option {
  value: string;
  label: string;
  /** A swatch before the label: the agent's or model's colour in the charts. */
  color?: string;
}

/** A compact, keyboard-usable multi-select: a button that opens a checklist (Esc closes). */
export function MultiSelect({
  label,
  options,
  selected,
  onChange,
  testId,
}: {
  label: string;
  options: Option[];
  selected: string[];
  onChange: (values: string[]) => void;
  testId?: string;
}) {
  const [open, setOpen, root] = usePopover<HTMLDivElement>();
  const button = useRef<HTMLButtonElement>(null);
  const id = useId();

  const toggle = (value: string) =>
    onChange(selected.includes(value) ? selected.filter((v) => v !== value) : [...selected, value]);

  return (
    <div
      className="multi"
      ref={root}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          setOpen(false);
          button.current?.focus();
        }
      }}
      onBlur={(e) => {
        if (open && root.current && !root.current.contains(e.relatedTarget as Node | null)) setOpen(false);
      }}
    >
      <button
        ref={button}
        type="button"
        className="btn multi-button"
        aria-haspopup="true"
        aria-expanded={open}
        aria-controls={id}
        data-testid={testId}
        onClick={() => setOpen((o) => !o)}
      >
        {label}
        {selected.length > 0 ? <span className="count">{selected.length}</span> : null}
        <span aria-hidden="true" className="muted">
          ▾
        </span>
      </button>
      {open ? (
        <div className="popover" id={id} role="group" aria-label={label}>
          {options.map((o) => (
            <label key={o.value}>
              <input type="checkbox" checked={selected.includes(o.value)} onChange={() => toggle(o.value)} />
              {o.color ? <span className="legend-swatch" style={{ background: o.color }} aria-hidden="true" /> : null}
              {o.label}
            </label>
          ))}
          {selected.length > 0 ? (
            <div className="popover-foot">
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => onChange([])}>
                Clear
              </button>
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
