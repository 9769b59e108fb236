// The one module that talks to the network. The API key is read from session storage here and
// attached here only: once per HTTP request (Authorization header) and once per WebSocket
// (graphql-transport-ws `connection_init` payload — browsers cannot set WebSocket headers).
// Components only ever see an urql Client.

import {
  Client,
  cacheExchange,
  fetchExchange,
  mapExchange,
  subscriptionExchange,
  type CombinedError,
} from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { hasCode } from './errors';

const KEY_STORAGE = 'observatory.apiKey';
const ENDPOINT_STORAGE = 'observatory.endpoint';

export interface Credentials {
  key: string;
  endpoint: string;
}

/** Same origin by default (the API serves the SPA); VITE_GRAPHQL_URL overrides at build time. */
export function defaultEndpoint(): string {
  const configured = import.meta.env.VITE_GRAPHQL_URL as string | undefined;
  return configured && configured.length > 0 ? configured : '/graphql';
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the key lives only in memory for this tab
  }
}

export function loadCredentials(): Credentials | null {
  const s = storage();
  const key = s?.getItem(KEY_STORAGE);
  if (!key) return null;
  return { key, endpoint: s?.getItem(ENDPOINT_STORAGE) || defaultEndpoint() };
}

export function saveCredentials(c: Credentials): void {
  const s = storage();
  s?.setItem(KEY_STORAGE, c.key);
  if (c.endpoint !== defaultEndpoint()) s?.setItem(ENDPOINT_STORAGE, c.endpoint);
  else s?.removeItem(ENDPOINT_STORAGE);
}

export function clearCredentials(): void {
  const s = storage();
  s?.removeItem(KEY_STORAGE);
  s?.removeItem(ENDPOINT_STORAGE);
}

/** ws(s):// URL for an http(s):// or path endpoint. */
export function websocketUrl(endpoint: string, base: string = window.location.href): string {
  const url = new URL(endpoint, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'closed';

export interface Connection {
  client: Client;
  /** Current socket state; `subscribe` is told on every change. */
  liveState(): LiveState;
  onLiveState(listener: (s: LiveState) => void): () => void;
  dispose(): void;
}

export interface ConnectOptions {
  /** Called when the server stops accepting the key (revoked mid-session, wrong key). */
  onUnauthenticated?: () => void;
}

// graphql-ws close codes for a refused connection_init (4401 Unauthorized, 4403 Forbidden).
const AUTH_CLOSE_CODES = new Set([4401, 4403]);

export function connect(creds: Credentials, opts: ConnectOptions = {}): Connection {
  const authorization = `Bearer ${creds.key}`;
  let state: LiveState = 'connecting';
  const listeners = new Set<(s: LiveState) => void>();
  const setState = (s: LiveState) => {
    if (s === state) return;
    state = s;
    for (const l of listeners) l(s);
  };

  const ws: WsClient = createWsClient({
    url: websocketUrl(creds.endpoint),
    connectionParams: { authorization },
    lazy: true,
    lazyCloseTimeout: 3000,
    keepAlive: 20_000,
    retryAttempts: Infinity,
    shouldRetry: (event) => {
      const code = (event as { code?: number } | null)?.code;
      if (code !== undefined && AUTH_CLOSE_CODES.has(code)) {
        opts.onUnauthenticated?.();
        return false;
      }
      return true;
    },
    // Capped exponential backoff with jitter, so a restarted API is not stampeded.
    retryWait: async (retries) => {
      const ms = Math.min(30_000, 1000 * 2 ** retries) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, ms));
    },
    on: {
      connecting: () => setState(state === 'live' ? 'reconnecting' : 'connecting'),
      connected: () => setState('live'),
      closed: () => setState(disposed ? 'closed' : 'reconnecting'),
    },
  });

  let disposed = false;
  const reportAuth = (error: CombinedError) => {
    if (hasCode(error, 'UNAUTHENTICATED')) opts.onUnauthenticated?.();
  };

  const client = new Client({
    url: creds.endpoint,
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: { authorization } }),
    exchanges: [
      mapExchange({ onError: reportAuth }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return {
    client,
    liveState: () => state,
    onLiveState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      disposed = true;
      setState('closed');
      void ws.dispose();
    },
  };
}
