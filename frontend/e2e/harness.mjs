// End-to-end harness: a throwaway PostgreSQL database, `observatory serve --demo` on a free
// loopback port, and Debian's Chromium driven by playwright-core. Everything it starts it stops,
// and the database it creates it drops, even when a test fails.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { chromium } from 'playwright-core';

const execFileP = promisify(execFile);

export const FRONTEND = resolve(new URL('..', import.meta.url).pathname);
export const REPO = resolve(FRONTEND, '..');
export const RESULTS = join(FRONTEND, 'test-results');

// The PostgreSQL server the Python tests use (trust auth); the e2e run creates its own database.
function pgServer() {
  const url = process.env.OBSERVATORY_TEST_DATABASE_URL;
  if (url) {
    const u = new URL(url.replace(/^postgresql\+\w+:/, 'postgresql:'));
    return { host: u.hostname || '127.0.0.1', port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres') };
  }
  return { host: '127.0.0.1', port: 5432, user: 'postgres' };
}
const PG = pgServer();
const OBSERVATORY = process.env.OBSERVATORY_BIN ?? join(REPO, '.venv', 'bin', 'observatory');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function admin(sql) {
  const c = new pg.Client({ ...PG, database: 'postgres' });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Start everything; returns a context with `stop()` (idempotent). */
export async function start({ log = () => {} } = {}) {
  const cleanups = [];
  const ctx = { stop: async () => {} };
  const stop = async () => {
    while (cleanups.length) {
      const fn = cleanups.pop();
      try {
        await fn();
      } catch (e) {
        console.error(`cleanup: ${e.message}`);
      }
    }
  };
  ctx.stop = stop;
  try {
    if (!existsSync(join(FRONTEND, 'dist', 'index.html'))) {
      throw new Error('frontend/dist is missing: run `npm run build` first');
    }
    if (!existsSync(OBSERVATORY)) throw new Error(`${OBSERVATORY} not found (make venv)`);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
    mkdirSync(RESULTS, { recursive: true });

    // 1. Throwaway database.
    const db = `observatory_e2e_${process.pid}_${Date.now().toString(36)}`;
    await admin(`CREATE DATABASE ${db}`);
    cleanups.push(() => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`));
    const databaseUrl = `postgresql+asyncpg://${PG.user}@${PG.host}:${PG.port}/${db}`;
    ctx.pg = new pg.Client({ ...PG, database: db });
    const work = mkdtempSync(join(tmpdir(), 'observatory-e2e-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const env = {
      ...process.env,
      OBSERVATORY_DATABASE_URL: databaseUrl,
      OBSERVATORY_DATA_DIR: join(work, 'data'),
      OBSERVATORY_FRONTEND_DIR: join(FRONTEND, 'dist'),
      OBSERVATORY_LOG_LEVEL: 'warning',
      // Alerts are evaluated every second, so a rule created in a test fires at once.
      OBSERVATORY_ALERTS_INTERVAL_S: '1',
    };
    ctx.env = env;

    // 2. The API with demo data, on a free loopback port.
    const port = await freePort();
    const t0 = Date.now();
    const server = spawn(OBSERVATORY, ['serve', '--demo', '--host', '127.0.0.1', '--port', String(port)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // own process group: uvicorn workers go down with it
    });
    let serverLog = '';
    const exited = new Promise((r) => server.once('exit', (code) => r(code)));
    cleanups.push(async () => {
      if (server.exitCode === null) {
        try {
          process.kill(-server.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const done = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 8000))]);
        if (done === 'timeout') {
          try {
            process.kill(-server.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
    });
    ctx.adminKey = await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no demo key after 90 s:\n${serverLog}`)), 90_000);
      const onData = (chunk) => {
        serverLog += chunk;
        const m = serverLog.match(/demo admin API key: (\S+)/);
        if (m) {
          clearTimeout(timer);
          ok(m[1]);
        }
      };
      server.stdout.setEncoding('utf8').on('data', (c) => (serverLog += c));
      server.stderr.setEncoding('utf8').on('data', onData);
      exited.then((code) => {
        clearTimeout(timer);
        fail(new Error(`observatory serve exited (${code}):\n${serverLog}`));
      });
    });
    ctx.serverLog = () => serverLog;
    ctx.base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${ctx.base}/readyz`)).ok, 30_000, 'API /readyz');
    // `serve --demo` loads the demo data in the background once it answers.
    const demoIn = async () => {
      const res = await fetch(`${ctx.base}/status`);
      return res.ok && (await res.json()).demoLoading === false;
    };
    await waitFor(demoIn, 120_000, 'demo data loaded (/status)');
    log(`API ready on ${ctx.base} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await ctx.pg.connect();
    cleanups.push(() => ctx.pg.end());

    // 3. A viewer key for the denied-review test.
    const { stdout } = await execFileP(OBSERVATORY, ['keys', 'create', '--name', 'e2e viewer', '--role', 'viewer'], { env });
    ctx.viewerKey = stdout.trim().split('\n').pop().trim();

    // 4. Chromium with a fresh profile; reduced motion turns chart animation off for screenshots.
    const profile = mkdtempSync(join(tmpdir(), 'observatory-chromium-'));
    cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
    ctx.browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
      reducedMotion: 'reduce',
      colorScheme: 'light',
      timeout: 30_000,
    });
    cleanups.push(() => ctx.browser.close());
    ctx.browser.setDefaultTimeout(10_000);
    return ctx;
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function waitFor(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** POST a GraphQL operation as an integrator would. */
export async function gql(ctx, key, query, variables = {}) {
  const r = await fetch(`${ctx.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  return r.json();
}

/** The Python fake OpenClaw gateway (tests/sync) with these agent files; `writes` fills as
 * agents.files.set calls arrive. */
export async function startFakeGateway(files) {
  const python = join(REPO, '.venv', 'bin', 'python');
  const proc = spawn(python, ['-m', 'tests.sync.serve_fake_gateway', JSON.stringify(files)], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const writes = [];
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => proc.once('exit', r));
  const url = await new Promise((ok, fail) => {
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('URL ')) ok(line.slice(4).trim());
        else if (line.startsWith('WRITE ')) writes.push(JSON.parse(line.slice(6)));
      }
    });
    proc.once('exit', (code) => fail(new Error(`fake gateway exited (${code}): ${err}`)));
  });
  return {
    url,
    token: 'test-gateway-token',
    writes,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
