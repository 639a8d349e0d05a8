// Hostile text renders as inert text with the layout intact: HTML and scripts in
// names, maps, rules and player names; right-to-left overrides; control characters
// and 10,000-character names (these two the API refuses, so they are injected into
// the page's WebSocket, as a rogue or buggy server might send them).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { has, launch, open, servers, unique, waitRows } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

const XSS = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';

test('hostile names render as inert text', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const token = unique('hx');
  const game = unique('g');
  await list.add({
    game, name: `${token} ${XSS}`.slice(0, 128), map: '<script>window.pwned=3</script>',
    players: 1, max_players: 4,
    rules: { '<b>key</b>': '<img src=x onerror="window.pwned=4">' },
    player_list: [{ name: '<iframe src="javascript:window.pwned=5">', score: 1, ping: 2 }],
  });
  await list.add({ game, name: `${token} \u202Eevil.exe\u202C tail`, players: 2, max_players: 4 });

  const context = await browser.newContext();
  t.after(() => context.close());
  let client;
  let asked;
  let answered;
  await context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => {
      if (JSON.parse(m).type === 'subscribe') asked = JSON.parse(m).filter.q;
      server.send(m);
    });
    server.onMessage((m) => {
      if (m.startsWith('{"type":"snapshot"')) answered = asked;
      ws.send(m);
    });
    client = ws;
  });
  const page = await open(context);
  await page.getByLabel('Search').fill(token);
  // The filtered snapshot must be in before anything is injected (it replaces the list).
  for (const deadline = Date.now() + 10_000; answered !== token && Date.now() < deadline; ) await page.waitForTimeout(20);
  assert.equal(answered, token, 'the filtered snapshot came');
  await waitRows(page, (n) => n.length === 2, 'the two announced servers');

  const long = `${token} long ${'W'.repeat(10_000)}`;
  const controls = `${token} ctl \u0000\u0007\u001b[31m\u0085\u2066iso\u2069 <svg onload="window.pwned=6">`;
  const injected = (id, name) => ({
    id, game, kind: 'server', address: `127.0.0.1:${id.length}`, name, map: `${'M'.repeat(10_000)}\u202E`,
    players: 3, max_players: 8, bots: 0, password: true, version: '\u202E1.0',
    rules: { ['k'.repeat(10_000)]: `${'v'.repeat(10_000)}<b>x</b>` },
    player_list: [{ name: `\u202E${'p'.repeat(10_000)}`, score: 0, ping: 0 }],
    source: 'native', first_seen: '2026-01-01T00:00:00.000Z', last_seen: 'not a date',
  });
  client.send(JSON.stringify({ type: 'added', id: 'list', server: injected('ffffffffffff0001', long) }));
  client.send(JSON.stringify({ type: 'added', id: 'list', server: injected('ffffffffffff0002', controls) }));
  await waitRows(page, (n) => n.length === 4, 'the injected servers');

  const shown = await page.evaluate(() => {
    const rows = [...document.querySelectorAll('.scroller .row:not([hidden])')];
    return {
      heights: rows.map((r) => r.getBoundingClientRect().height),
      overflow: rows.map((r) => r.scrollWidth - r.clientWidth),
      texts: rows.map((r) => r.textContent),
      pageWidth: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    };
  });
  assert.ok(shown.heights.every((h) => h === 40), `row heights ${shown.heights}`);
  assert.ok(shown.overflow.every((o) => o <= 0), `rows overflow ${shown.overflow}`);
  assert.equal(shown.pageWidth, 0);
  const all = shown.texts.join(' ');
  assert.ok(all.includes('<img src=x'), 'the HTML shows as text');
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(all), 'no controls or bidi overrides shown');

  // The details of each: still inert, and the panel does not overflow sideways.
  for (let i = 0; i < 4; i++) {
    await page.locator(`.scroller .row[aria-rowindex="${i + 2}"]`).click();
    await page.locator('#details:not([hidden])').waitFor();
    const panel = await page.evaluate(() => {
      const d = document.querySelector('#details .details-body');
      return { overflow: d.scrollWidth - d.clientWidth, text: d.textContent };
    });
    assert.ok(panel.overflow <= 0, `details overflow ${panel.overflow}`);
    assert.ok(!/[\u0000-\u001f\u202a-\u202e\u2066-\u2069]/.test(panel.text));
    await page.keyboard.press('Escape');
  }

  assert.equal(await page.evaluate(() => window.pwned), undefined, 'no script ran');
  const injectedElements = await page.evaluate(() =>
    document.querySelectorAll('main img:not(.avatar), main script, main iframe, main svg, main b').length);
  assert.equal(injectedElements, 0, 'no element was injected');
  await waitRows(page, has(`${token} ${XSS}`.slice(0, 128)), 'the HTML name as text');
});
