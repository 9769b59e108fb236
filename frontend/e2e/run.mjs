#!/usr/bin/env node
// End-to-end tests of the built dashboard against `observatory serve --demo` in headless
// Chromium. Run with `npm run e2e` after `npm run build`. Screenshots of each main screen are
// saved in frontend/test-results/ (also on failure).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RESULTS, gql, start, startFakeGateway, waitFor } from './harness.mjs';

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

test('run timeline: open a failed session, find the failed run, read its error, review that run', async () => {
  await page.goto(`${ctx.base}/sessions?kind=task&status=failed`);
  await rows().first().waitFor();
  await page.locator('[data-testid=session-row] a.row-link').first().click();
  const timeline = page.getByTestId('run-timeline');
  await timeline.getByTestId('timeline-run').first().waitFor();
  await shot('05a-session-runs');
  // Only the failed runs, then the first of them.
  await timeline.getByRole('button', { name: /^Failed [1-9]/ }).click();
  const failed = timeline.locator('[data-testid=timeline-run][data-status=FAILED]');
  await failed.first().waitFor();
  await waitFor(async () => {
    const statuses = await timeline.getByTestId('timeline-run').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    return statuses.length > 0 && statuses.every((x) => x === 'FAILED');
  }, 5000, 'only failed runs listed');
  const rowTitle = await failed.first().getAttribute('title');
  await failed.first().click();
  await waitFor(() => new URL(page.url()).searchParams.has('run'), 5000, 'run in URL');
  const error = (await page.getByTestId('run-error').innerText()).trim();
  assert.ok(error.length > 0, 'the failed run shows its error');
  assert.equal(rowTitle, `Error: ${error}`, 'the timeline row and the header show the same error');
  assert.match(await page.getByTestId('run-header').innerText(), /Failed/);
  await page.getByTestId('message').first().waitFor();
  await shot('05b-failed-run');
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await shot('05b-failed-run-dark');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
  // Review that run: the form targets the run, and the review is listed under it.
  await page.getByTestId('review-this-run').click();
  const box = page.getByTestId('run-reviews');
  const form = box.getByTestId('review-form');
  await form.getByText('Failed', { exact: true }).click();
  await form.getByLabel('1 of 5').check({ force: true });
  const summary = `Run failed on a tool error ${Date.now()}`;
  await form.getByLabel('Summary').fill(summary);
  await form.getByRole('button', { name: 'Submit review' }).click();
  const item = box.getByTestId('review-item').filter({ hasText: summary });
  await item.waitFor();
  assert.match(await item.innerText(), /run #/);
  await shot('05c-run-reviewed');
  // Back to the whole session: its transcript is grouped by run.
  await page.getByRole('button', { name: 'Whole session' }).click();
  await page.getByTestId('run-divider').first().waitFor();
  assert.equal(new URL(page.url()).searchParams.has('run'), false);
});

test('a heartbeat links to its run in the main session', async () => {
  await page.goto(`${ctx.base}/heartbeats`);
  await page.getByTestId('heartbeat-row-run-link').first().click();
  await page.getByTestId('run-header').waitFor();
  assert.match(page.url(), /\/sessions\/\d+\?run=\d+/);
  assert.match(await page.getByTestId('run-header').innerText(), /Heartbeat run/);
  assert.match(await page.getByTestId('session-title').innerText(), /main/);
  await page.locator('[data-testid=timeline-run][aria-current=true]').waitFor();
  await shot('09a-heartbeat-run-in-session');
});

test('times name their zone; the UTC/local switch is remembered', async () => {
  await page.goto(`${ctx.base}/sessions`);
  await rows().first().waitFor();
  await page.getByTestId('zone-utc').click();
  await waitFor(async () => (await page.locator('[data-testid=session-row] td').allInnerTexts()).some((t) => /UTC/.test(t)), 5000, 'UTC times');
  await page.reload();
  await rows().first().waitFor();
  assert.equal(await page.getByTestId('zone-utc').getAttribute('aria-pressed'), 'true');
  assert.ok((await page.locator('[data-testid=session-row] td').allInnerTexts()).some((t) => /UTC/.test(t)), 'still UTC after reload');
  await page.getByTestId('zone-local').click();
  assert.equal(await page.evaluate(() => localStorage.getItem('observatory.timeZone')), 'local');
});

test('a session created by the backend appears live in the list', async () => {
  await page.goto(`${ctx.base}/sessions`);
  await rows().first().waitFor();
  await waitFor(async () => (await page.getByTestId('live-state').getAttribute('data-state')) === 'live', 10_000, 'live socket');
  // What a sync pass does: upsert a session row; the database trigger NOTIFYs the API.
  const insert = (key, title) =>
    ctx.pg.query(
      `INSERT INTO sessions (source_id, key, agent_id, kind, status, title, model, started_at, updated_at)
       VALUES ((SELECT id FROM sync_sources ORDER BY id LIMIT 1), $1, 'sofia', 'task', 'running', $2,
               'claude-sonnet-4-5', now(), now())`,
      [key, title],
    );
  // graphql-transport-ws does not acknowledge a subscribe: insert probe sessions until one is
  // shown live (the feed listens), then the real one. The probes are deleted afterwards.
  const probes = `agent:sofia:subagent:e2e-probe-${Date.now()}`;
  const probeRows = rows().filter({ hasText: 'Live E2E probe' });
  for (let i = 0; (await probeRows.count()) === 0; i++) {
    assert.ok(i < 10, 'a probe session shown live');
    await insert(`${probes}-${i}`, 'Live E2E probe');
    await probeRows.first().waitFor({ timeout: 2000 }).catch(() => undefined);
  }
  const newCount = async () => Number(/\+(\d+) new/.exec(await page.getByTestId('new-count').innerText())?.[1] ?? 0);
  const before = await newCount();
  assert.ok(before >= 1, 'the probe counts as new');
  const title = `Live E2E session ${Date.now()}`;
  await insert(`agent:sofia:subagent:e2e-${Date.now()}`, title);
  const row = rows().filter({ hasText: title });
  await row.waitFor({ timeout: 10_000 });
  assert.equal(await rows().first().innerText().then((t) => t.includes(title)), true, 'new row on top');
  await waitFor(async () => (await newCount()) === before + 1, 5000, 'one more new session');
  await shot('07-sessions-live');
  await ctx.pg.query('DELETE FROM sessions WHERE key LIKE $1', [`${probes}-%`]);
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
  // The last page's rows are measured after they render, which grows the list: keep scrolling to
  // the end until the last message is on screen.
  const last = page.locator('[data-testid=message]').filter({ hasText: 'Answer 4999' }).or(
    page.locator('[data-testid=message]').filter({ hasText: 'total 4999' }),
  ).first();
  await waitFor(async () => {
    await page.getByTestId('transcript').evaluate((el) => el.scrollTo(0, el.scrollHeight));
    return last.isVisible();
  }, 10_000, 'the last message on screen');
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
  const paintedAll = () =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll('.chart-box canvas')).map((c) => {
        const canvas = /** @type {HTMLCanvasElement} */ (c);
        const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        if (data) for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n;
      }),
    );
  // ECharts animates its first paint: wait until every canvas holds a chart.
  let painted = [];
  await waitFor(async () => {
    painted = await paintedAll();
    return painted.length === 5 && painted.every((n) => n > 2000);
  }, 5000, 'five painted charts');
  assert.equal(painted.length, 5, 'five charts');
  assert.ok(painted.every((n) => n > 2000), `non-empty canvases: ${painted}`);
  assert.notEqual(await page.getByTestId('kpis').innerText(), '');
  await shot('10-dashboard');
  // Dark theme, same screen.
  await page.getByRole('button', { name: 'Switch to dark theme' }).click();
  await page.locator('html[data-theme=dark]').waitFor({ state: 'attached' });
  await page.locator('[data-testid=chart-cost][data-state=ready] canvas').waitFor();
  await shot('11-dashboard-dark');
  await page.getByRole('button', { name: 'Switch to light theme' }).click();
});

test('trust: a null-cost agent shows "—" in the cost tooltip (never $0); rates show their n', async () => {
  await page.goto(`${ctx.base}/dashboard?period=7d`);
  const chart = page.locator('[data-testid=chart-cost][data-state=ready]');
  await chart.locator('canvas').waitFor();
  // Let the first (animated) paint land before hovering: wait for a painted chart, not a delay.
  await waitFor(async () => (await canvasPixels('[data-testid=chart-cost]')) > 2000, 5000, 'the cost chart painted');
  const bounds = await chart.boundingBox();
  assert.ok(bounds, 'cost chart on screen');
  // Hover across the plot until the axis tooltip lists Orion, whose provider reports no cost.
  let tip = '';
  for (let x = 0.3; x <= 0.95 && !/Orion/.test(tip); x += 0.1) {
    await page.mouse.move(bounds.x + bounds.width * x, bounds.y + bounds.height * 0.6);
    // The tooltip follows the pointer; at a point without Orion it never names it, so each
    // point gets a bounded wait for that condition before the pointer moves on.
    const named = chart.locator('div').filter({ hasText: /Orion/ }).last();
    await named.waitFor({ timeout: 1000 }).catch(() => undefined);
    tip = (await named.innerText().catch(() => '')).trim();
  }
  assert.match(tip, /Orion \(local\)/, `tooltip names agents by display name: ${tip}`);
  const orion = tip.split('\n').find((l) => /Orion/.test(l)) ?? '';
  const line = tip.replace(/\s+/g, ' ');
  assert.match(line, /Orion \(local\)\s*—/, `null cost shows as a dash: ${line}`);
  assert.doesNotMatch(orion + line.slice(line.indexOf('Orion')), /^Orion \(local\)\s*\$0/, 'never $0');
  await shot('10a-cost-tooltip');
  await page.mouse.move(0, 0);
  // Every success rate says how many reviews it rests on.
  const rates = await page.locator('[data-testid=agents-table] [data-testid=rate]').allInnerTexts();
  assert.ok(rates.length >= 4, `one rate per agent: ${rates}`);
  assert.ok(rates.every((r) => /^(\d+(\.\d)?%|—) · \d+ reviews?$/.test(r)), `rates with n: ${rates}`);
  // A rate resting on fewer than 10 reviews is greyed, the others are not.
  const flags = await page.locator('[data-testid=agents-table] [data-testid=rate]').evaluateAll((els) =>
    els.map((e) => [Number((e.textContent ?? '').match(/· (\d+)/)?.[1]), e.getAttribute('data-small')]),
  );
  assert.ok(flags.length > 0 && flags.every(([n, small]) => small === String(n < 10)), `greyed when n < 10: ${JSON.stringify(flags)}`);
  assert.match(await page.getByTestId('kpis').innerText(), /\d+ reviews?/);
  await page.getByTestId('status-legend').getByText('Failed').waitFor();
});

test('Tools: top tools, charts, tool × model; an error group opens a drawer whose sample lands on the failing call', async () => {
  await page.goto(`${ctx.base}/tools?period=30d`);
  await page.getByTestId('tool-row').nth(2).waitFor();
  for (const id of ['chart-tool-calls', 'chart-tool-errors', 'chart-tool-latency']) {
    await page.locator(`[data-testid=${id}][data-state=ready] canvas`).waitFor();
  }
  assert.ok((await page.locator('[data-testid=tool-model-table] tbody tr').count()) >= 3, 'tool × model rows');
  await shot('20-tools');
  // Select the flaky tool: its error groups list below, several distinct errors of one type.
  await page.getByTestId('tool-row').filter({ hasText: 'exec' }).getByRole('button').click();
  await waitFor(() => new URL(page.url()).searchParams.get('tool') === 'exec', 5000, 'tool in URL');
  const groups = page.getByTestId('tool-error-group');
  await waitFor(async () => {
    const texts = await groups.allInnerTexts();
    return texts.length >= 2 && texts.every((t) => t.startsWith('exec'));
  }, 10_000, 'exec error groups');
  await groups.first().getByRole('button').click();
  const drawer = page.getByTestId('tool-error-drawer');
  await drawer.getByTestId('tool-error-sample').first().waitFor();
  await shot('21-tool-error-drawer');
  const link = drawer.getByTestId('open-failed-call').first();
  const href = await link.getAttribute('href');
  const messageId = new URL(href ?? '', ctx.base).searchParams.get('message');
  assert.ok(messageId, `link names the message: ${href}`);
  await link.click();
  // The transcript opens with the failing tool result loaded, marked and scrolled into view.
  const focused = page.locator(`[data-testid=message][data-focused=true]`);
  await focused.waitFor();
  assert.equal(await focused.getAttribute('data-role'), 'TOOL_RESULT');
  assert.equal(await focused.getAttribute('data-error'), 'true');
  await waitFor(async () => {
    const box = await focused.boundingBox();
    const view = await page.getByTestId('transcript').boundingBox();
    return !!box && !!view && box.y >= view.y - 1 && box.y + Math.min(box.height, 40) <= view.y + view.height + 1;
  }, 5000, 'focused message inside the transcript viewport');
  await shot('22-failing-call-in-transcript');
});

test('dashboard: the tool-error panel lists groups and links to the Tools page', async () => {
  await page.goto(`${ctx.base}/dashboard?period=30d`);
  const panel = page.getByTestId('tool-error-panel');
  await panel.getByTestId('tool-error-group').first().waitFor();
  await panel.getByTestId('tool-error-group').first().getByRole('link').click();
  await waitFor(() => new URL(page.url()).pathname === '/tools' && !!new URL(page.url()).searchParams.get('group'), 5000, 'tools page with group');
  await page.getByTestId('tool-error-drawer').getByTestId('tool-error-sample').first().waitFor();
});

const queueItems = () => page.getByTestId('queue-item');

test('review queue: prioritised items with reason chips; another reviewer’s claim shows with its expiry', async () => {
  // Another reviewer holds one item (claimed through the API with their own key).
  const created = await gql(ctx, ctx.adminKey, 'mutation { createApiKey(name: "e2e other reviewer", role: REVIEWER) { secret } }');
  const other = created.data.createApiKey.secret;
  const q = await gql(ctx, other, '{ reviewQueue(first: 5) { items { sessionId runId title } } }');
  const held = q.data.reviewQueue.items[2];
  const c = await gql(ctx, other, 'mutation($s: ID!, $r: ID) { claimQueueItem(sessionId: $s, runId: $r) { expiresAt } }', {
    s: held.sessionId,
    r: held.runId,
  });
  assert.ok(c.data.claimQueueItem.expiresAt, JSON.stringify(c));

  await page.goto(`${ctx.base}/queue`);
  await queueItems().first().waitFor();
  const chips = await page.getByTestId('reason-chips').innerText();
  for (const reason of ['Disagreement', 'Low confidence', 'Failed', 'Unreviewed']) assert.match(chips, new RegExp(`${reason}\\s+\\d+`));
  assert.match(await page.getByTestId('queue-total').innerText(), /^\d+$/);
  // Most urgent first: the first item's priority reasons come before plain "unreviewed" ones.
  assert.match(await queueItems().first().innerText(), /Low confidence|Disagreement|Failed/);
  const heldKey = held.runId ? `${held.sessionId}:${held.runId}` : held.sessionId;
  const heldRow = page.locator(`[data-testid=queue-item][data-key="${heldKey}"]`);
  await heldRow.getByTestId('claim-label').filter({ hasText: /Claimed by another reviewer until \d/ }).waitFor();
  assert.equal(await heldRow.getByRole('button', { name: /^Claim / }).count(), 0, 'no claim button on a held item');
  await shot('14-review-queue');
});

test('review queue: claim an item, review it from the keyboard, it leaves the queue; claim next; shortcut help', async () => {
  // An item without an AI review (so a human review settles it for good).
  const key = await queueItems().filter({ hasNotText: '· AI' }).filter({ hasNotText: 'Claimed' }).first().getAttribute('data-key');
  const row = page.locator(`[data-testid=queue-item][data-key="${key}"]`);
  const title = (await row.locator('.queue-item-title').innerText()).trim();
  await row.getByRole('button', { name: /^Claim / }).click();
  const panel = page.getByTestId('review-panel');
  await page.locator(`[data-testid=review-panel][data-key="${key}"]`).waitFor();
  await panel.getByTestId('claim-bar').getByText(/Claimed by you · 1[45] min left/).waitFor();
  await row.getByTestId('claim-label').filter({ hasText: 'Claimed by you' }).waitFor();
  await panel.getByTestId('run-summary').waitFor();

  // Verdict 3 (failed), then "r 2" for the rating; Enter submits.
  await page.keyboard.press('3');
  await page.keyboard.press('r');
  await page.keyboard.press('2');
  const form = panel.getByTestId('queue-form');
  assert.equal(await form.getByLabel('Failed', { exact: false }).first().isChecked(), true, 'verdict 3 = failed');
  assert.equal(await form.getByLabel('2 of 5').isChecked(), true, 'r then 2 = rating 2');
  // Shift+4 also sets the rating.
  await page.keyboard.press('Shift+Digit4');
  assert.equal(await form.getByLabel('4 of 5').isChecked(), true, 'Shift+4 = rating 4');
  await shot('15-queue-review');
  await page.keyboard.press('Enter');
  await page.getByTestId('queue-notice').filter({ hasText: `Review of “${title}” saved` }).waitFor();
  await page.locator(`[data-testid=queue-item][data-key="${key}"]`).waitFor({ state: 'detached' });
  // Submitting moved on: the panel holds the next item, claimed by us.
  await waitFor(async () => (await panel.getAttribute('data-key')) !== key, 5000, 'next item in the panel');
  await panel.getByTestId('claim-bar').getByText(/Claimed by you/).waitFor();
  // The API agrees: a human review exists and the item is no longer queued.
  // (The demo's first item is an AI/human disagreement: an earlier human review stays listed.)
  const [sessionId, runId = null] = key.split(':');
  const r = await gql(ctx, ctx.adminKey, '{ reviews(filter: { sessionId: "' + sessionId + '", reviewerKinds: [HUMAN] }) { edges { node { verdict rating runId createdBy } } } }');
  const mine = r.data.reviews.edges.map((e) => e.node).filter((n) => n.runId === runId && /demo admin/.test(n.createdBy ?? ''));
  assert.deepEqual(mine.map((n) => [n.verdict, n.rating]), [['FAILED', 4]]);
  const after = await gql(ctx, ctx.adminKey, '{ reviewQueue(first: 200) { items { sessionId runId } } }');
  assert.ok(!after.data.reviewQueue.items.some((i) => (i.runId ? `${i.sessionId}:${i.runId}` : i.sessionId) === key), 'left the queue');

  // An item the AI judged with low confidence: its verdict sits next to the form; the human
  // verdict makes a judge/human pair (the Improve page's agreement chart draws it).
  const q = await gql(ctx, ctx.adminKey, '{ reviewQueue(first: 100) { items { sessionId runId reasons claimed latestAi { createdAt } } } }');
  // Its AI review inside the Improve page's default window (7 d vs the 7 d before), or the
  // agreement chart there has no pair to draw: which item comes first depends on the demo data.
  const aiItem = q.data.reviewQueue.items.find((i) => {
    const at = i.latestAi ? Date.parse(i.latestAi.createdAt) : 0;
    return !i.runId && !i.claimed && i.reasons.includes('low_confidence') && at < Date.now() - 3_600_000 && at > Date.now() - 13 * 86_400_000;
  });
  assert.ok(aiItem, 'a low-confidence AI-reviewed session in the queue');
  await page.locator(`[data-testid=queue-item][data-key="${aiItem.sessionId}"]`).getByRole('button', { name: /^Claim / }).click();
  await page.locator(`[data-testid=review-panel][data-key="${aiItem.sessionId}"]`).waitFor();
  await panel.getByTestId('claim-bar').getByText(/Claimed by you/).waitFor();
  assert.match(await panel.getByTestId('ai-verdict').innerText(), /AI[\s\S]*\d+% confident/);
  await page.keyboard.press('1');
  await page.keyboard.press('Shift+Digit5');
  await page.keyboard.press('Enter');
  await page.getByTestId('queue-notice').filter({ hasText: 'saved' }).waitFor();
  await waitFor(async () => (await panel.getAttribute('data-key')) !== aiItem.sessionId, 5000, 'moved on from the AI item');

  // s skips the current item (hidden from us for 24 h) and claims the next one.
  const skipped = await panel.getAttribute('data-key');
  await page.keyboard.press('s');
  await page.getByTestId('queue-notice').filter({ hasText: 'Skipped' }).waitFor();
  await page.locator(`[data-testid=queue-item][data-key="${skipped}"]`).waitFor({ state: 'detached' });
  // j/k move through the list.
  const firstKey = await queueItems().first().getAttribute('data-key');
  await page.keyboard.press('k');
  await page.keyboard.press('k');
  await page.keyboard.press('k');
  await waitFor(async () => (await panel.getAttribute('data-key')) === firstKey, 3000, 'k to the top');
  await page.keyboard.press('j');
  const secondKey = await queueItems().nth(1).getAttribute('data-key');
  await waitFor(async () => (await panel.getAttribute('data-key')) === secondKey, 3000, 'j to the second item');
  // ? shows the shortcuts; Escape closes them.
  await page.keyboard.press('?');
  await page.getByTestId('shortcut-help').waitFor();
  assert.match(await page.getByTestId('shortcut-help').innerText(), /Verdict: accomplished[\s\S]*Rating 1–5/);
  await shot('16-queue-shortcuts');
  await page.keyboard.press('Escape');
  await page.getByTestId('shortcut-help').waitFor({ state: 'detached' });
  // n claims the next item (our own open claim comes back first), u gives it back.
  await page.keyboard.press('n');
  await panel.getByTestId('claim-bar').getByText(/Claimed by you/).waitFor();
  const claimedKey = await panel.getAttribute('data-key');
  await page.keyboard.press('u');
  await page.locator(`[data-testid=review-panel][data-key="${claimedKey}"] [data-testid=claim-bar]`).getByText(/Not claimed/).waitFor();
});

async function canvasPixels(selector) {
  return page.evaluate((sel) => {
    const canvas = /** @type {HTMLCanvasElement | null} */ (document.querySelector(`${sel} canvas`));
    const data = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    if (data) for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  }, selector);
}

test('Improve: the period comparison chart paints, significance is stated, patterns are listed', async () => {
  await page.goto(`${ctx.base}/improve`);
  assert.match(await page.getByTestId('windows-label').innerText(), /before .* vs after /i);
  await page.locator('[data-testid=chart-compare][data-state=ready] canvas').waitFor();
  // ECharts animates its first paint: wait for the chart rather than a fixed delay.
  let painted = 0;
  await waitFor(async () => (painted = await canvasPixels('[data-testid=chart-compare]')) > 2000, 5000, 'the comparison chart painted');
  assert.ok(painted > 2000, `comparison chart painted (${painted} px)`);
  assert.match(await page.getByTestId('compare-summary').innerText(), /tested changes|Not enough data/);
  const rowsOverall = await page.getByTestId('compare-row').count();
  assert.equal(rowsOverall, 7, 'one row per metric');
  // Every row says whether its change is significant.
  const verdicts = await page.locator('[data-testid=compare-row]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
  assert.ok(verdicts.every((v) => ['better', 'worse', 'noise', 'untested', 'no-data'].includes(v)), String(verdicts));
  // Patterns of the after window.
  await page.getByTestId('error-signature').first().waitFor();
  assert.ok((await page.getByTestId('idle-heartbeats').count()) > 0, 'idle heartbeats found');
  assert.match(await page.getByTestId('pattern-errors').innerText(), /\d+/);
  await page.getByTestId('error-signature').first().locator('a.chip-link').first().waitFor();
  await shot('17-improve', page);
  // Per agent: one chart row per agent for the chosen metric; the table has every group.
  await page.getByTestId('group-by').getByRole('button', { name: 'Agent' }).click();
  await waitFor(() => page.url().includes('by=agent'), 5000, 'by=agent in URL');
  await waitFor(async () => (await page.getByTestId('compare-row').count()) > rowsOverall, 10_000, 'grouped rows');
  await page.locator('[data-testid=chart-compare][data-state=ready] canvas').waitFor();
  // The human review of an AI-reviewed item (queue test) is a judge/human pair.
  await page.locator('[data-testid=chart-agreement][data-state=ready] canvas').waitFor();
  assert.ok((await canvasPixels('[data-testid=chart-agreement]')) > 1000, 'agreement chart painted');
  await page.getByTestId('agreement-models').getByText('gpt-5-mini').waitFor();
  await page.locator('#changes').screenshot({ path: join(RESULTS, '18-improve-by-agent.png') });
  await page.locator('#agreement').screenshot({ path: join(RESULTS, '18b-judge-agreement.png') });
});

test('Improve: generate suggestions, mark one applied a week ago, its before/after impact shows', async () => {
  await page.goto(`${ctx.base}/improve#suggestions`);
  await page.getByTestId('generate-suggestions').click();
  await page.getByTestId('suggestions-notice').filter({ hasText: /suggestions? from/ }).waitFor();
  const showAll = page.getByRole('button', { name: /^Show all \d+ suggestions/ });
  const card = page.getByTestId('suggestion').filter({ hasText: 'heartbeats do nothing' }).first();
  await waitFor(async () => (await showAll.count()) > 0 || (await card.count()) > 0, 10_000, 'the generated suggestions');
  if (await showAll.count()) await showAll.click();
  await card.waitFor();
  // Evidence with links.
  await card.locator('details.evidence summary').click();
  await card.getByRole('link', { name: /idle heartbeats in that window/ }).waitFor();
  await card.getByRole('button', { name: 'Mark applied…' }).click();
  const weekAgo = await page.evaluate(() => {
    const d = new Date(Date.now() - 7 * 86_400_000);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  });
  const form = card.getByTestId('apply-form');
  await form.getByLabel(/Applied at/).fill(weekAgo);
  await form.getByLabel(/Note/).fill('E2E: shorter HEARTBEAT.md');
  await form.getByRole('button', { name: 'Mark applied' }).click();
  const applied = page.locator('[data-testid=suggestion][data-status=applied]').filter({ hasText: 'E2E: shorter HEARTBEAT.md' });
  await applied.getByTestId('impact').waitFor();
  await applied.getByTestId('impact-table').locator('[data-testid=compare-row]').first().waitFor();
  assert.match(await applied.getByTestId('impact').innerText(), /Cost per heartbeat/);
  // Scroll the applied card to just below the sticky header, then take the screen.
  await applied.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 72));
  await shot('19-suggestion-impact');
  // Dismiss another open one, then reopen it.
  const open = page.locator('[data-testid=suggestion][data-status=open]').first();
  const title = (await open.locator('h3').innerText()).trim();
  await open.getByRole('button', { name: 'Dismiss' }).click();
  const dismissed = page.locator('[data-testid=suggestion][data-status=dismissed]').filter({ hasText: title });
  await dismissed.waitFor();
  await dismissed.getByRole('button', { name: 'Reopen' }).click();
  await page.locator('[data-testid=suggestion][data-status=open]').filter({ hasText: title }).waitFor();
});

test('AI review: not configured on the demo server (said instead of a button); the per-agent switch saves', async () => {
  const { rows: [s] } = await ctx.pg.query(`SELECT id FROM sessions WHERE kind = 'task' AND status = 'completed' ORDER BY id LIMIT 1`);
  await page.goto(`${ctx.base}/sessions/${s.id}`);
  await page.getByTestId('ai-not-configured').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Request AI review' }).count(), 0);
  await page.goto(`${ctx.base}/improve#ai-review`);
  const row = page.locator('[data-testid=policy-row][data-agent=atlas]');
  await row.locator('label.switch').click();
  await row.getByText('On', { exact: true }).waitFor();
  assert.equal(await row.getByRole('switch').isChecked(), true);
  await waitFor(async () => {
    const r = await gql(ctx, ctx.adminKey, '{ reviewPolicies { agentId enabled } }');
    return r.data.reviewPolicies.some((p) => p.agentId === 'atlas' && p.enabled);
  }, 5000, 'switch saved');
  await row.getByLabel(/Heartbeat sample rate/).fill('25');
  await row.getByLabel(/Heartbeat sample rate/).press('Enter');
  await waitFor(async () => {
    const r = await gql(ctx, ctx.adminKey, '{ reviewPolicies { agentId enabled heartbeatSampleRate } }');
    const p = r.data.reviewPolicies.find((x) => x.agentId === 'atlas');
    return p?.enabled === true && Math.abs(p.heartbeatSampleRate - 0.25) < 1e-9;
  }, 5000, 'policy saved');
  await page.locator('#ai-review').screenshot({ path: join(RESULTS, '20-ai-review-policy.png') });
});

test('Alerts: a rule created from an agent’s row fires and shows live; silence it; sessions download as CSV', async () => {
  await page.goto(`${ctx.base}/alerts`);
  const row = page.locator('[data-testid=alert-agent-row][data-agent=atlas]');
  await row.getByRole('button', { name: 'Create rule' }).click();
  const form = page.getByTestId('rule-form');
  await form.getByLabel('Kind').selectOption('FAILURE_RATE');
  await form.getByLabel(/Threshold/).fill('0.01');
  await form.getByLabel('Window (minutes)').fill('44640');
  await form.getByLabel('Minimum sample').fill('1');
  await form.getByRole('button', { name: 'Create rule' }).click();
  await page.getByTestId('rules-table').getByText('atlas: failure rate').waitFor();
  // The server evaluates every second (harness): the alert arrives through alertFired.
  await page.getByTestId('alert-row').filter({ hasText: 'atlas' }).first().waitFor({ timeout: 15_000 });
  assert.match(await page.getByTestId('alert-row').first().innerText(), /firing/);
  await row.getByRole('button', { name: 'Silence 2 h' }).click();
  await page.getByTestId('silences').getByText(/atlas until/).waitFor();
  await shot('21-alerts');

  await page.goto(`${ctx.base}/sessions?kind=task`);
  await rows().first().waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sessions-csv').click()]);
  assert.match(download.suggestedFilename(), /^sessions-.*\.csv$/);
  const { readFile } = await import('node:fs/promises');
  const lines = (await readFile(await download.path(), 'utf8')).trim().split('\n');
  assert.match(lines[0], /^id,key,agent_id,kind,status/);
  assert.ok(lines.length > 1 && lines.slice(1).every((l) => l.split(',')[3] === 'task'), 'only task sessions');
});

test('Improve: review an AI proposal side by side, approve it, apply it through the gateway, see it applied', async () => {
  const before = '# Heartbeat\n\n- Check the inbox.\n- Reply HEARTBEAT_OK.\n';
  const diff = '--- a/HEARTBEAT.md\n+++ b/HEARTBEAT.md\n@@ -2,3 +2,4 @@\n \n - Check the inbox.\n+- Skip files that do not exist (ls first).\n - Reply HEARTBEAT_OK.\n';
  const after = before.replace('inbox.\n', 'inbox.\n- Skip files that do not exist (ls first).\n');
  const gw = await startFakeGateway({ quill: { 'HEARTBEAT.md': before } });
  try {
    // What a sync pass and a synthesis leave behind: a gateway source that synced quill's
    // sessions, and a proposal for its HEARTBEAT.md.
    await ctx.pg.query(`INSERT INTO agents (id, display_name) VALUES ('quill', 'Quill (e2e)')`);
    const { rows: [src] } = await ctx.pg.query(
      // Disabled: the server's sync runner leaves it alone; file access does not need syncing.
      `INSERT INTO sync_sources (name, kind, config, enabled) VALUES ('e2e-gateway', 'openclaw-gateway', $1, false) RETURNING id`,
      [JSON.stringify({ gateway_url: gw.url, token: gw.token })],
    );
    await ctx.pg.query(
      `INSERT INTO sessions (source_id, key, agent_id, kind, status, title, started_at, updated_at, synced_at)
       VALUES ($1, 'agent:quill:main', 'quill', 'main', 'running', 'Quill main', now() - interval '1 day', now(), now())`,
      [src.id],
    );
    await ctx.pg.query(
      `INSERT INTO improvement_proposals (agent_id, source_id, writable, file_name, base_text, diff, title, rationale,
         evidence, target_metrics, sessions_affected, cost_at_stake, model, period_start, period_end)
       VALUES ('quill', $1, true, 'HEARTBEAT.md', $2, $3, 'Skip missing files in heartbeats',
         'Four heartbeats failed on ENOENT reading files that do not exist.', '{"session_ids": []}',
         '["failure_rate"]', 4, 1.25, 'stub-model', now() - interval '7 days', now())`,
      [src.id, before, diff],
    );
    // A real load (the last test left this page at another #fragment, which would not reload).
    await page.goto(`${ctx.base}/improve#proposals`);
    await page.reload();
    const card = page.getByTestId('proposal').filter({ hasText: 'Skip missing files in heartbeats' });
    await card.waitFor();
    const table = card.getByTestId('diff-side-by-side');
    await table.locator('.diff-add').filter({ hasText: 'Skip files that do not exist' }).waitFor();
    assert.match(await card.innerText(), /4 sessions affected · \$1\.25 at stake/);
    assert.deepEqual(gw.writes, [], 'nothing written before approval');
    await card.evaluate((el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 72));
    await shot('22-proposal-diff');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.locator('[data-testid=proposal][data-status=APPROVED]').filter({ hasText: 'Skip missing files' }).waitFor();
    assert.deepEqual(gw.writes, [], 'approval alone writes nothing');
    await card.getByRole('button', { name: 'Apply to quill' }).click();
    const applied = page.locator('[data-testid=proposal][data-status=APPLIED]').filter({ hasText: 'Skip missing files' });
    await applied.waitFor();
    await applied.getByTestId('too-early').waitFor();
    await waitFor(() => gw.writes.length === 1, 5000, 'the gateway write');
    assert.deepEqual(gw.writes[0], ['quill', 'HEARTBEAT.md', after]);
    await shot('23-proposal-applied');
    await applied.getByRole('button', { name: 'Revert' }).click();
    await page.locator('[data-testid=proposal][data-status=REVERTED]').filter({ hasText: 'Skip missing files' }).waitFor();
    await waitFor(() => gw.writes.length === 2, 5000, 'the revert write');
    assert.deepEqual(gw.writes[1], ['quill', 'HEARTBEAT.md', before]);
  } finally {
    await gw.stop();
  }
});

test('a viewer key can read but is denied the review form and every queue/Improve action (and the API says FORBIDDEN)', async () => {
  const viewer = await ctx.browser.newPage(); // new tab: its own session storage
  try {
    await signIn(viewer, ctx.viewerKey);
    assert.match(await viewer.getByTestId('user').innerText(), /Viewer/);
    await viewer.locator('[data-testid=session-row] a.row-link').first().click();
    await viewer.getByTestId('review-denied').waitFor();
    assert.equal(await viewer.getByTestId('review-form').count(), 0, 'no review form');
    assert.equal(await viewer.getByRole('button', { name: 'Edit' }).count(), 0, 'no edit buttons');
    await shot('12-viewer-denied', viewer);
    // The queue: readable, but no claim/skip/submit anywhere, and the shortcuts do nothing.
    await viewer.getByRole('link', { name: 'Review queue' }).click();
    await viewer.getByTestId('queue-item').first().waitFor();
    await viewer.getByTestId('queue-readonly').waitFor();
    await viewer.getByTestId('review-panel').waitFor();
    assert.equal(await viewer.getByTestId('claim-next').count(), 0, 'no claim-next');
    assert.equal(await viewer.getByRole('button', { name: /^Claim/ }).count(), 0, 'no claim buttons');
    assert.equal(await viewer.getByTestId('queue-form').count(), 0, 'no review form');
    // Negative: n and 1 must do nothing. "?" after them is the marker: once its help shows,
    // both keys were handled, and no claim went out before it.
    const sent = [];
    const onRequest = (r) => sent.push(r.postData() ?? '');
    viewer.on('request', onRequest);
    await viewer.keyboard.press('n');
    await viewer.keyboard.press('1');
    await viewer.keyboard.press('?');
    await viewer.getByTestId('shortcut-help').waitFor();
    viewer.off('request', onRequest);
    assert.equal(sent.filter((b) => b.includes('claimNextQueueItem')).length, 0, 'n sent no claim');
    assert.equal(await viewer.getByText('Claimed by you').count(), 0, 'n claimed nothing');
    await viewer.keyboard.press('Escape');
    await viewer.getByTestId('shortcut-help').waitFor({ state: 'detached' });
    await shot('21-viewer-queue', viewer);
    const claim = await gql(ctx, ctx.viewerKey, 'mutation { claimNextQueueItem { sessionId } }');
    assert.equal(claim.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    // Improve: readable, no actions.
    await viewer.getByRole('link', { name: 'Improve' }).click();
    await viewer.locator('[data-testid=chart-compare][data-state=ready]').waitFor();
    assert.equal(await viewer.getByTestId('generate-suggestions').count(), 0, 'no generate button');
    assert.equal(await viewer.getByRole('button', { name: 'Mark applied…' }).count(), 0, 'no mark applied');
    await viewer.getByTestId('proposal').first().waitFor();
    assert.equal(await viewer.getByRole('button', { name: /^(Approve|Apply to|Revert|Edit diff)/ }).count(), 0, 'no proposal actions');
    const apply = await gql(ctx, ctx.viewerKey, 'mutation { applyProposal(id: "1") { id } }');
    assert.equal(apply.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.ok(await viewer.locator('[data-testid=policy-row] [role=switch]').first().isDisabled(), 'policy switch disabled');
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
    // The next request with the key signs out: a click, or a periodic refetch that got there
    // first (e.g. on a minute boundary), in which case the link is already gone.
    const alert = p.getByRole('alert').filter({ hasText: 'no longer accepted' });
    if ((await alert.count()) === 0) await p.getByRole('link', { name: 'Dashboard' }).click({ timeout: 3000 }).catch(() => {});
    await alert.waitFor();
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
