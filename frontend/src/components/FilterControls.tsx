// Filter controls shared by the sessions and heartbeats views.
import { useTheme } from '../app/theme';
import { DARK_THEME, LIGHT_THEME, colorOf } from '../charts/options';
import { useEffect, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { AgentsQuery } from '../api/operations';
import type { RangeKey } from '../lib/filters';
import { useDebounced } from '../lib/hooks';

export function SearchBox({
  value,
  onChange,
  placeholder,
}: {
  value: string;
  onChange: (v: string) => void;
  placeholder: string;
}) {
  const [text, setText] = useState(value);
  const debounced = useDebounced(text, 300);
  const ref = useRef<HTMLInputElement>(null);
  const last = useRef(value);

  // URL -> box (back button, "clear filters").
  useEffect(() => {
    if (value !== last.current) {
      last.current = value;
      setText(value);
    }
  }, [value]);
  // box -> URL, debounced.
  useEffect(() => {
    if (debounced !== last.current) {
      last.current = debounced;
      onChange(debounced);
    }
  }, [debounced, onChange]);
  // "/" focuses the search box, as in most list UIs.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key === '/' && t && !['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName)) {
        e.preventDefault();
        ref.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <input
      ref={ref}
      type="search"
      className="input"
      aria-label="Search"
      placeholder={placeholder}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          last.current = text;
          onChange(text);
        }
      }}
    />
  );
}

export function RangeSelect({
  range,
  from,
  to,
  onChange,
}: {
  range: RangeKey;
  from: string;
  to: string;
  onChange: (patch: { range: RangeKey; from: string; to: string }) => void;
}) {
  return (
    <>
      <select
        className="select"
        aria-label="Started"
        value={range}
        onChange={(e) => onChange({ range: e.target.value as RangeKey, from, to })}
      >
        <option value="">Any time</option>
        <option value="24h">Last 24 hours</option>
        <option value="7d">Last 7 days</option>
        <option value="30d">Last 30 days</option>
        <option value="custom">Custom range…</option>
      </select>
      {range === 'custom' ? (
        <>
          <input
            type="date"
            className="input"
            aria-label="Started from"
            value={from}
            max={to || undefined}
            onChange={(e) => onChange({ range, from: e.target.value, to })}
          />
          <input
            type="date"
            className="input"
            aria-label="Started until"
            value={to}
            min={from || undefined}
            onChange={(e) => onChange({ range, from, to: e.target.value })}
          />
        </>
      ) : null}
    </>
  );
}

export function TriStateSelect({
  label,
  value,
  yes,
  no,
  onChange,
}: {
  label: string;
  value: boolean | null;
  yes: string;
  no: string;
  onChange: (v: boolean | null) => void;
}) {
  return (
    <select
      className="select"
      aria-label={label}
      value={value === null ? '' : value ? 'yes' : 'no'}
      onChange={(e) => onChange(e.target.value === '' ? null : e.target.value === 'yes')}
    >
      <option value="">{label}: any</option>
      <option value="yes">{yes}</option>
      <option value="no">{no}</option>
    </select>
  );
}

export function useAgentOptions(): Array<{ value: string; label: string; color: string }> {
  const [{ data }] = useQuery({ query: AgentsQuery });
  const [theme] = useTheme();
  const chartTheme = theme === 'dark' ? DARK_THEME : LIGHT_THEME;
  // The same colour as the agent's series in every chart.
  return (data?.agents ?? []).map((a) => ({ value: a.id, label: a.displayName ?? a.id, color: colorOf(a.id, chartTheme) }));
}
