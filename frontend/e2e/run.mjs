#!/usr/bin/env node
// End-to-end tests of the built dashboard against `observatory serve --demo` in headless
// Chromium. Run with `npm run e2e` after `npm run build`. Screenshots of each main screen are
// saved in frontend/test-results/ (also on failure).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RESULTS, gql, start, waitFor } from './harness.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const log = (m) => console.log(`  ${m}`);

let ctx;
let page;
const shot = (name, p = page) => p.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: false });

async function signIn(p, key) {
  await p.goto(`${ctx.base}/sessions`);
  await p.getByLabel('API key').fill(key);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByTestId('sessions-table').waitFor();
}

const rows = () => page.getByTestId('session-row');

test('sign in: a wrong key is refused with a clear message, the demo key is accepted', async () => {
  await page.goto(`${ctx.base}/`);
  await page.getByLabel('API key').waitFor();
  await shot('01-sign-in');
  await page.getByLabel('API key').fill('obs_wrong_key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
  await signIn(page, ctx.adminKey);
  await rows().first().waitFor();
  assert.match(await page.getByTestId('user').innerText(), /demo admin/);
  assert.equal(
    await page.evaluate(() => sessionStorage.getItem('observatory.apiKey')),
    ctx.adminKey,
    'key kept in session storage',
  );
  await waitFor(async () => (await page.getByTestId('live-state').getAttribute('data-state')) === 'live', 10_000, 'live socket');
  await shot('02-sessions');
});

test('filter sessions: kind, status and search narrow the list and live in the URL', async () => {
  const before = await page.getByTestId('sessions-count').innerText();
  await page.getByRole('group', { name: 'Kind' }).getByRole('button', { name: 'Task' }).click();
  await waitFor(() => page.url().includes('kind=task'), 5000, 'kind in URL');
  await page.getByTestId('filter-status').click();
  await page.getByRole('group', { name: 'Status' }).getByLabel('Completed').check();
  await page.keyboard.press('Escape');
  await waitFor(() => page.url().includes('status=completed'), 5000, 'status in URL');
  await waitFor(async () => (await page.getByTestId('sessions-count').innerText()) !== before, 5000, 'count to change');
  // The table shows only completed tasks once the query for the new URL has answered.
  await waitFor(async () => {
    const kinds = await page.locator('[data-testid=session-row] .kind').allInnerTexts();
    const statuses = await page.locator('[data-testid=session-row] td:nth-child(3)').allInnerTexts();
    return kinds.length > 0 && kinds.every((k) => k === 'task') && statuses.every((x) => x.trim() === 'Completed');
  }, 5000, 'only completed tasks listed');
  // Search by the first row's title; the shared URL reproduces the view on reload.
  const title = (await page.locator('[data-testid=session-row] a.row-link').first().innerText()).trim();
  const word = title.split(' ').slice(0, 2).join(' ');
  await page.getByRole('searchbox', { name: 'Search' }).fill(word);
  await waitFor(() => new URL(page.url()).searchParams.get('q') === word, 5000, 'q in URL');
  await waitFor(async () => {
    const titles = await page.locator('[data-testid=session-row] a.row-link').allInnerTexts();
    return titles.length > 0 && titles.every((t) => t.toLowerCase().includes(word.toLowerCase()));
  }, 5000, 'search results');
  const shared = page.url();
  await page.reload();
  await rows().first().waitFor();
  assert.equal(page.url(), shared);
  assert.equal(await page.getByRole('searchbox', { name: 'Search' }).inputValue(), word);
  assert.equal(await page.getByRole('group', { name: 'Kind' }).getByRole('button', { name: 'Task' }).getAttribute('aria-pressed'), 'true');
  await shot('03-sessions-filtered');

  // Sort by cost (descending) via the header button.
  await page.getByRole('button', { name: /^Cost/ }).click();
  await waitFor(() => page.url().includes('sort=cost'), 5000, 'sort in URL');
  await waitFor(async () => {
    const costs = (await page.locator('[data-testid=session-row] td:nth-child(8)').allInnerTexts()).map((c) =>
      c.trim() === '—' ? -1 : Number(c.replace(/[$,]/g, '')),
    );
    return costs.length > 1 && costs.every((c, i) => i === 0 || costs[i - 1] >= c) && costs[0] !== costs[costs.length - 1];
  }, 5000, 'rows sorted by cost, most expensive first');
  // Keyboard: ArrowDown moves between rows, Enter opens one.
  await page.locator('[data-testid=session-row] a.row-link').first().focus();
  await page.keyboard.press('ArrowDown');
  const focused = await page.evaluate(() => document.activeElement?.closest('tr')?.rowIndex);
  assert.equal(focused, 2, 'focus moved to the second row');
});

test('open a session and read its transcript', async () => {
  await page.goto(`${ctx.base}/sessions?kind=task`);
  await rows().first().waitFor();
  const title = (await page.locator('[data-testid=session-row] a.row-link').first().innerText()).trim();
  await page.locator('[data-testid=session-row] a.row-link').first().click();
  await page.getByTestId('session-title').filter({ hasText: title }).waitFor();
  await page.getByTestId('message').first().waitFor();
  const count = await page.getByTestId('transcript-count').innerText();
  assert.match(count, /\d+ of \d+ messages/);
  const roles = await page.locator('[data-testid=message] .msg-role').allInnerTexts();
  assert.ok(roles.some((r) => /user/i.test(r)) && roles.some((r) => /assistant/i.test(r)), `roles: ${roles}`);
  const call = page.locator('details.tool-call').first();
  if (await call.count()) {
    await call.locator('summary').click();
    assert.equal(await call.getAttribute('open'), '');
  }
  assert.match(await page.getByTestId('transcript-freshness').innerText(), /Transcript cache/);
  await shot('04-session-detail');
});

test('submit a review: API validation shows by field, then the review is listed', async () => {
  const form = page.getByTestId('review-form');
  await form.getByText('Partial', { exact: true }).click();
  await form.getByLabel('4 of 5').check({ force: true });
  // Server-side validation: the summary limit is the API's, shown next to the field.
  await form.getByLabel('Summary').fill('x'.repeat(5001));
  await form.getByRole('button', { name: 'Submit review' }).click();
  await page.getByTestId('summary-error').waitFor();
  assert.match(await page.getByTestId('summary-error').innerText(), /summary/i);
  await shot('05-review-validation');

  const summary = `E2E review ${Date.now()}`;
  await form.getByLabel('Summary').fill(summary);
  await form.getByRole('button', { name: 'Submit review' }).click();
  const item = page.getByTestId('review-item').filter({ hasText: summary });
  await item.waitFor();
  assert.match(await item.innerText(), /by demo admin/);
  assert.match(await item.innerText(), /Partial/);
  // Edit own review.
  await item.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('form', { name: 'Edit review' });
  await edit.getByText('Accomplished', { exact: true }).click();
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await page.getByTestId('review-item').filter({ hasText: summary }).filter({ hasText: 'Accomplished' }).waitFor();
  await shot('06-review-listed');
});

test('a session created by the backend appears live in the list', async () => {
  await page.goto(`${ctx.base}/sessions`);
  await rows().first().waitFor();
  await waitFor(async () => (await page.getByTestId('live-state').getAttribute('data-state')) === 'live', 10_000, 'live socket');
  // Give the subscription a moment to be registered server-side.
  await page.waitForTimeout(500);
  const title = `Live E2E session ${Date.now()}`;
  const key = `agent:sofia:subagent:e2e-${Date.now()}`;
  // What a sync pass does: upsert a session row; the database trigger NOTIFYs the API.
  await ctx.pg.query(
    `INSERT INTO sessions (source_id, key, agent_id, kind, status, title, model, started_at, updated_at)
     VALUES ((SELECT id FROM sync_sources ORDER BY id LIMIT 1), $1, 'sofia', 'task', 'running', $2,
             'claude-sonnet-4-5', now(), now())`,
    [key, title],
  );
  const row = rows().filter({ hasText: title });
  await row.waitFor({ timeout: 10_000 });
  assert.equal(await rows().first().innerText().then((t) => t.includes(title)), true, 'new row on top');
  assert.match(await page.getByTestId('new-count').innerText(), /\+1 new/);
  await shot('07-sessions-live');
});

test('a 5,000-message transcript is paged and virtualised', async () => {
  const { rows: [session] } = await ctx.pg.query(
    `INSERT INTO sessions (source_id, key, agent_id, kind, status, title, model, started_at, updated_at, transcript_synced_at)
     VALUES ((SELECT id FROM sync_sources ORDER BY id LIMIT 1), $1, 'atlas', 'task', 'completed',
             'Very long transcript (5,000 messages)', 'gpt-5', now() - interval '3 days', now() - interval '2 days', now())
     RETURNING id`,
    [`agent:atlas:subagent:e2e-long-${Date.now()}`],
  );
  await ctx.pg.query(
    `INSERT INTO messages (session_id, provider_session_id, seq, role, content, created_at)
     SELECT $1, 'e2e-long', g,
            (ARRAY['user', 'assistant', 'tool_result'])[g % 3 + 1],
            CASE g % 3
              WHEN 0 THEN jsonb_build_object('blocks', jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'Question ' || g)))
              WHEN 1 THEN jsonb_build_object('blocks', jsonb_build_array(
                  jsonb_build_object('type', 'text', 'text', 'Answer ' || g || E'\n' || repeat('lorem ipsum ', (g % 40) + 1)),
                  jsonb_build_object('type', 'tool_call', 'id', 'call-' || g, 'name', 'exec', 'arguments', jsonb_build_object('cmd', 'ls -la /tmp/' || g))))
              ELSE jsonb_build_object('blocks', jsonb_build_array(jsonb_build_object('type', 'tool_result', 'name', 'exec', 'tool_call_id', 'call-' || (g - 1), 'text', 'total ' || g)))
            END,
            now() - interval '3 days' + g * interval '1 second'
     FROM generate_series(0, 4999) AS g`,
    [session.id],
  );
  await page.goto(`${ctx.base}/sessions/${session.id}`);
  await page.getByTestId('message').first().waitFor();
  const t0 = Date.now();
  // Scroll to the end until every page has been fetched.
  await waitFor(async () => {
    await page.getByTestId('transcript').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    return /^5,000 of 5,000/.test(await page.getByTestId('transcript-count').innerText());
  }, 60_000, 'all 5,000 messages loaded');
  const loadedIn = Date.now() - t0;
  await page.locator('[data-testid=message]').filter({ hasText: 'Answer 4999' }).or(
    page.locator('[data-testid=message]').filter({ hasText: 'total 4999' }),
  ).first().waitFor();
  // Scroll back up through the whole list and count long main-thread tasks.
  const longTasks = await page.getByTestId('transcript').evaluate(async (el) => {
    const seen = [];
    const obs = new PerformanceObserver((l) => l.getEntries().forEach((e) => seen.push(e.duration)));
    obs.observe({ type: 'longtask', buffered: false });
    for (let y = el.scrollHeight; y > 0; y -= el.clientHeight * 3) {
      el.scrollTo(0, y);
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    }
    obs.disconnect();
    return seen;
  });
  const inDom = await page.getByTestId('message').count();
  log(`5,000 messages: all pages in ${(loadedIn / 1000).toFixed(1)} s, ${inDom} in the DOM, ` +
    `${longTasks.length} long tasks while scrolling (max ${Math.round(Math.max(0, ...longTasks))} ms)`);
  assert.ok(inDom < 80, `virtualised: ${inDom} message elements in the DOM`);
  await shot('08-transcript-5000');
});

test('heartbeats view lists heartbeat runs and opens one for review', async () => {
  await page.getByRole('link', { name: 'Heartbeats' }).click();
  await page.getByTestId('heartbeat-row').first().waitFor();
  await page.getByTestId('heartbeat-row').first().locator('button.row-link').click();
  await page.getByTestId('heartbeat-panel').waitFor();
  const panel = page.getByTestId('heartbeat-panel');
  const form = panel.getByTestId('review-form');
  await form.getByText('Failed', { exact: true }).click();
  await form.getByLabel('2 of 5').check({ force: true });
  const summary = `Heartbeat acted for nothing ${Date.now()}`;
  await form.getByLabel('Summary').fill(summary);
  await form.getByRole('button', { name: 'Submit review' }).click();
  await panel.getByTestId('review-item').filter({ hasText: summary }).waitFor();
  await shot('09-heartbeats');
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  // The run-level review shows in the list too.
  await page.getByTestId('heartbeat-row').first().getByText('Failed', { exact: true }).waitFor();
});

test('dashboard: charts render on canvas, agents table filled', async () => {
  await page.goto(`${ctx.base}/dashboard?period=30d`);
  await page.locator('[data-testid=agents-table] tbody tr').nth(3).waitFor();
  for (const id of ['chart-cost', 'chart-tokens', 'chart-triggers', 'chart-durations', 'chart-verdicts']) {
    await page.locator(`[data-testid=${id}][data-state=ready] canvas`).waitFor();
  }
  await page.waitForTimeout(300);
  const painted = await page.evaluate(() =>
    Array.from(document.querySelectorAll('.chart-box canvas')).map((c) => {
      const canvas = /** @type {HTMLCanvasElement} */ (c);
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      if (data) for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    }),
  );
  assert.equal(painted.length, 5, 'five charts');
  assert.ok(painted.every((n) => n > 2000), `non-empty canvases: ${painted}`);
  assert.notEqual(await page.getByTestId('kpis').innerText(), '');
  await shot('10-dashboard');
  // Dark theme, same screen.
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await page.waitForTimeout(300);
  await shot('11-dashboard-dark');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
});

test('a viewer key can read but is denied the review form (and the API says FORBIDDEN)', async () => {
  const viewer = await ctx.browser.newPage(); // new tab: its own session storage
  try {
    await signIn(viewer, ctx.viewerKey);
    assert.match(await viewer.getByTestId('user').innerText(), /Viewer/);
    await viewer.locator('[data-testid=session-row] a.row-link').first().click();
    await viewer.getByTestId('review-denied').waitFor();
    assert.equal(await viewer.getByTestId('review-form').count(), 0, 'no review form');
    assert.equal(await viewer.getByRole('button', { name: 'Edit' }).count(), 0, 'no edit buttons');
    await shot('12-viewer-denied', viewer);
    const r = await gql(ctx, ctx.viewerKey, 'mutation($i: CreateReviewInput!) { createReview(input: $i) { id } }', {
      i: { sessionId: '1', verdict: 'FAILED', rating: 1 },
    });
    assert.equal(r.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  } finally {
    await viewer.close();
  }
});

test('a key revoked mid-session is signed out with the reason', async () => {
  const created = await gql(ctx, ctx.adminKey, 'mutation { createApiKey(name: "e2e temp", role: REVIEWER) { key { id } secret } }');
  const { key, secret } = created.data.createApiKey;
  const p = await ctx.browser.newPage();
  try {
    await signIn(p, secret);
    const revoked = await gql(ctx, ctx.adminKey, 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: key.id });
    assert.ok(revoked.data.revokeApiKey.revokedAt);
    await p.getByRole('link', { name: 'Dashboard' }).click();
    await p.getByRole('alert').filter({ hasText: 'no longer accepted' }).waitFor();
    assert.equal(await p.evaluate(() => sessionStorage.getItem('observatory.apiKey')), null, 'key forgotten');
    await shot('13-key-revoked', p);
  } finally {
    await p.close();
  }
});

async function main() {
  const t0 = Date.now();
  console.log('e2e: starting database, API and Chromium …');
  ctx = await start({ log });
  let failed = 0;
  try {
    page = await ctx.browser.newPage();
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    for (const t of tests) {
      const s = Date.now();
      try {
        await t.fn();
        console.log(`✓ ${t.name} (${((Date.now() - s) / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed++;
        console.log(`✗ ${t.name}\n    ${String(e.stack ?? e).split('\n').slice(0, 6).join('\n    ')}`);
        await shot(`FAILED-${tests.indexOf(t) + 1}`).catch(() => {});
      }
    }
    if (consoleErrors.length) {
      failed++;
      console.log(`✗ uncaught page errors:\n    ${consoleErrors.join('\n    ')}`);
    }
  } finally {
    if (failed) console.log(`--- server log (tail) ---\n${ctx.serverLog().split('\n').slice(-30).join('\n')}`);
    await ctx.stop();
  }
  console.log(
    `${tests.length - failed} passed, ${failed} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${RESULTS}`,
  );
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
