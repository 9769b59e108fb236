import { useState, type FormEvent } from 'react';
import { useAuthApi } from '../app/auth';
import { defaultEndpoint } from '../lib/network';
import { Logo } from './Logo';

export function SignIn() {
  const { signIn, notice, state } = useAuthApi();
  const [key, setKey] = useState('');
  const [endpoint, setEndpoint] = useState(defaultEndpoint());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (state === 'checking') {
    return (
      <div className="signin" aria-busy="true">
        <span className="muted">Signing in…</span>
      </div>
    );
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Paste an API key to continue.');
      return;
    }
    setBusy(true);
    setError(null);
    const problem = await signIn({ key: trimmed, endpoint: endpoint.trim() || defaultEndpoint() });
    setBusy(false);
    if (problem) setError(problem);
  }

  const message = error ?? notice;
  return (
    <main className="signin">
      <div className="card signin-card">
        <Logo />
        <h1>Sign in to Session Observatory</h1>
        <p className="muted">
          Use an API key (<code>observatory keys create --name you --role reviewer</code>). It stays in this tab's
          session storage and is sent only to the API.
        </p>
        <form onSubmit={submit} className="stack" noValidate>
          <div className="field">
            <label htmlFor="api-key">API key</label>
            <input
              id="api-key"
              name="api-key"
              className="input"
              type="password"
              autoComplete="off"
              spellCheck={false}
              autoFocus
              value={key}
              aria-invalid={message ? true : undefined}
              aria-describedby={message ? 'signin-error' : undefined}
              onChange={(e) => setKey(e.target.value)}
            />
          </div>
          <details>
            <summary className="muted">API endpoint</summary>
            <div className="field" style={{ marginTop: 8 }}>
              <label htmlFor="api-endpoint">GraphQL URL</label>
              <input
                id="api-endpoint"
                className="input"
                value={endpoint}
                onChange={(e) => setEndpoint(e.target.value)}
              />
              <span className="field-hint">Same origin by default. Another origin must allow this one.</span>
            </div>
          </details>
          {message ? (
            <div id="signin-error" className="banner bad" role="alert">
              {message}
            </div>
          ) : null}
          <button className="btn btn-primary" type="submit" disabled={busy}>
            {busy ? 'Checking key…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
