// Who is signed in. The key goes to the network module (and session storage) and nowhere else;
// the UI reads only the caller's name, role and scopes from `me`, and hides what they disallow.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Provider } from 'urql';
import { MeQuery } from '../api/operations';
import type { MeQuery as MeResult } from '../gql/graphql';
import { describeError, hasCode } from '../lib/errors';
import {
  clearCredentials,
  connect,
  loadCredentials,
  saveCredentials,
  type Connection,
  type Credentials,
} from '../lib/network';

export type Viewer = MeResult['me'];

export type Scope =
  | 'sessions:read'
  | 'sessions:write'
  | 'reviews:read'
  | 'reviews:write'
  | 'metrics:read'
  | 'sync:read'
  | 'sync:write'
  | 'agents:write'
  | 'keys:admin'
  | 'alerts:read'
  | 'alerts:write';

interface SignedIn {
  me: Viewer;
  connection: Connection;
  can: (scope: Scope) => boolean;
  signOut: () => void;
}

interface AuthApi {
  state: 'checking' | 'signed-out' | 'signed-in';
  notice: string | null;
  session: SignedIn | null;
  signIn: (creds: Credentials) => Promise<string | null>;
}

const AuthContext = createContext<AuthApi | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthApi['state']>(() => (loadCredentials() ? 'checking' : 'signed-out'));
  const [notice, setNotice] = useState<string | null>(null);
  const [signedIn, setSignedIn] = useState<{ me: Viewer; connection: Connection } | null>(null);
  const current = useRef<Connection | null>(null);

  const signOut = useCallback((message: string | null = null) => {
    current.current?.dispose();
    current.current = null;
    clearCredentials();
    setSignedIn(null);
    setNotice(message);
    setState('signed-out');
  }, []);

  const signIn = useCallback(
    async (creds: Credentials): Promise<string | null> => {
      let accepted = false;
      const connection = connect(creds, {
        // Only after sign-in: a key revoked mid-session sends the user back with a reason.
        onUnauthenticated: () => {
          if (accepted && current.current === connection) {
            signOut('Your API key is no longer accepted (it may have been revoked). Sign in again.');
          }
        },
      });
      const result = await connection.client.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise();
      if (result.error || !result.data) {
        connection.dispose();
        if (hasCode(result.error, 'FORBIDDEN')) {
          return 'This key is valid but its role cannot read sessions, so the dashboard has nothing to show.';
        }
        return describeError(result.error) ?? 'The API returned no data.';
      }
      accepted = true;
      current.current?.dispose();
      current.current = connection;
      saveCredentials(creds);
      setSignedIn({ me: result.data.me, connection });
      setNotice(null);
      setState('signed-in');
      return null;
    },
    [signOut],
  );

  // Restore the session from session storage on load (same tab, page reload).
  const restored = useRef(false);
  useEffect(() => {
    const saved = loadCredentials();
    if (!saved || restored.current) return;
    restored.current = true;
    void signIn(saved).then((problem) => {
      if (problem) signOut(problem);
    });
  }, [signIn, signOut]);

  const session = useMemo<SignedIn | null>(() => {
    if (!signedIn) return null;
    const scopes = new Set(signedIn.me.scopes);
    return { ...signedIn, can: (s) => scopes.has(s), signOut: () => signOut(null) };
  }, [signedIn, signOut]);

  const api = useMemo<AuthApi>(() => ({ state, notice, session, signIn }), [state, notice, session, signIn]);

  return (
    <AuthContext.Provider value={api}>
      {session ? <Provider value={session.connection.client}>{children}</Provider> : children}
    </AuthContext.Provider>
  );
}

export function useAuthApi(): AuthApi {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuthApi outside AuthProvider');
  return ctx;
}

/** The signed-in caller; only used below the signed-in boundary. */
export function useAuth(): SignedIn {
  const s = useAuthApi().session;
  if (!s) throw new Error('useAuth while signed out');
  return s;
}
