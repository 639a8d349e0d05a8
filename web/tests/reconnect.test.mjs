// A broken WebSocket: the page says so, reconnects by itself, resumes its
// subscription (`since`) and shows what was announced meanwhile. Also going offline.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { has, launch, open, rowNames, servers, unique, waitRows } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

test('a broken socket is reported and the page recovers', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const context = await browser.newContext();
  t.after(() => context.close());

  let blocked = false;
  let refused = 0;
  let current;
  const subscribes = [];
  await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
    if (blocked) {
      refused++;
      ws.close({ code: 1011, reason: 'test: server unreachable' });
      return;
    }
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      const msg = JSON.parse(m);
      if (msg.type === 'subscribe') subscribes.push(msg);
      server.send(m);
    });
    server.onMessage((m) => ws.send(m));
    current = ws;
  });
  const page = await open(context);
  const before = unique('Before ');
  await list.add({ game: unique('g'), name: before, players: 1, max_players: 4 });
  await waitRows(page, has(before), 'the first server');

  blocked = true;
  await current.close({ code: 1006 });
  const status = page.getByRole('status').filter({ hasText: /reconnecting in \d+ s/i });
  await status.waitFor();

  const meanwhile = unique('Meanwhile ');
  await list.add({ game: unique('g'), name: meanwhile, players: 2, max_players: 4 });
  // The page retries by itself; let one attempt fail before the server comes back.
  for (const deadline = Date.now() + 10_000; refused === 0 && Date.now() < deadline; ) await page.waitForTimeout(50);
  assert.ok(refused > 0, 'the page tried to reconnect');
  assert.ok(!(await rowNames(page)).includes(meanwhile));
  blocked = false;

  await page.locator('.link[data-state=live]').waitFor({ timeout: 20_000 });
  await waitRows(page, has(meanwhile), 'the server announced meanwhile', 20_000);
  const resumed = subscribes.at(-1);
  assert.equal(typeof resumed.since, 'number', 'the subscription resumed after the last sequence number');
});

test('going offline and back online', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await open(context);

  await context.setOffline(true);
  await page.getByRole('status').filter({ hasText: /offline/i }).waitFor();
  const meanwhile = unique('Offline ');
  await list.add({ game: unique('g'), name: meanwhile, players: 1, max_players: 4 });
  await context.setOffline(false);
  await page.locator('.link[data-state=live]').waitFor({ timeout: 20_000 });
  await waitRows(page, has(meanwhile), 'the server announced while offline', 20_000);
});
