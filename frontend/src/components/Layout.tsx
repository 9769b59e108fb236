import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { useAuth, type Scope } from '../app/auth';
import { useTheme } from '../app/theme';
import { useTimeZone } from '../lib/timezone';
import { useLiveState } from '../lib/hooks';
import { label } from './Badges';
import { Logo } from './Logo';
import { SyncStatus } from './SyncStatus';

// Main sections; each shows only to keys with the scope its page reads.
const NAV: Array<{ href: string; label: string; scope: Scope }> = [
  { href: '/sessions', label: 'Sessions', scope: 'sessions:read' },
  { href: '/heartbeats', label: 'Heartbeats', scope: 'sessions:read' },
  { href: '/dashboard', label: 'Dashboard', scope: 'metrics:read' },
  { href: '/tools', label: 'Tools', scope: 'metrics:read' },
  { href: '/queue', label: 'Review queue', scope: 'reviews:read' },
  { href: '/improve', label: 'Improve', scope: 'metrics:read' },
  { href: '/alerts', label: 'Alerts', scope: 'alerts:read' },
];

const LIVE_TEXT = { connecting: 'Connecting', live: 'Live', reconnecting: 'Reconnecting…', closed: 'Offline' };

export function Layout({ children }: { children: ReactNode }) {
  const { me, can, signOut, connection } = useAuth();
  const [theme, toggleTheme] = useTheme();
  const [location] = useLocation();
  const live = useLiveState(connection);
  const [zone, setZone] = useTimeZone();

  return (
    <div className="app">
      <header className="topbar">
        <Link href="/sessions" className="brand">
          <Logo />
          Session Observatory
        </Link>
        <nav className="nav" aria-label="Main">
          {NAV.filter((item) => can(item.scope)).map((item) => {
            const active = location === item.href || location.startsWith(`${item.href}/`);
            return (
              <Link key={item.href} href={item.href} aria-current={active ? 'page' : undefined}>
                {item.label}
              </Link>
            );
          })}
        </nav>
        <div className="topbar-right">
          {can('sync:read') ? <SyncStatus /> : null}
          <span className="live" data-state={live} data-testid="live-state" title="Live updates (WebSocket)">
            <span className="live-dot" />
            {LIVE_TEXT[live]}
          </span>
          <div className="segmented zone-switch" role="group" aria-label="Time zone" title="Show times in UTC or in this browser’s zone (remembered)">
            {(['local', 'utc'] as const).map((z) => (
              <button type="button" key={z} aria-pressed={zone === z} onClick={() => setZone(z)} data-testid={`zone-${z}`}>
                {z === 'utc' ? 'UTC' : 'Local'}
              </button>
            ))}
          </div>
          <button
            type="button"
            className="btn btn-ghost btn-icon"
            onClick={toggleTheme}
            aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
            title="Toggle theme"
          >
            {theme === 'dark' ? '☀' : '☾'}
          </button>
          <span className="user" data-testid="user">
            <span className="user-name">{me.name}</span>
            <span className="badge accent">{label(me.role)}</span>
          </span>
          <button type="button" className="btn btn-sm" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      {/* Remount the page on a zone switch so every formatted time follows it. */}
      <main className="main" key={zone}>
        {children}
      </main>
    </div>
  );
}
