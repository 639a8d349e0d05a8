// Server details (players, rules, the copy button, the launch link) and favourites
// and history kept across a reload.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { has, launch, open, servers, unique, waitRows } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

test('details show players, rules and a copy button; favourites persist', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const name = unique('Detailed ');
  const entry = await list.add({
    game: unique('g'), name, map: 'oasago2', players: 2, max_players: 12, bots: 1, version: '0.8.8',
    password: true,
    rules: { g_gametype: '4', fraglimit: '20' },
    player_list: [{ name: 'Grunt', score: 12, ping: 48 }, { name: 'Sarge', score: 7, ping: 95 }],
  });
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  t.after(() => context.close());
  const page = await open(context);
  await waitRows(page, has(name), 'the server');

  // Open with the keyboard: focus the row, Enter.
  const row = page.locator('.scroller .row', { hasText: name });
  await row.focus();
  await page.keyboard.press('Enter');
  const details = page.locator('#details');
  await details.locator('h2', { hasText: name }).waitFor();
  const players = details.locator('section', { hasText: 'Players' }).locator('tbody tr');
  assert.deepEqual(await players.allTextContents(), ['Grunt1248', 'Sarge795']);
  const rules = details.locator('section', { hasText: 'Rules' }).locator('tbody tr');
  assert.deepEqual(await rules.allTextContents(), ['fraglimit20', 'g_gametype4']);
  assert.equal(await details.locator('.address').textContent(), entry.address);

  await details.getByRole('button', { name: 'Copy address' }).click();
  await details.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), entry.address);

  // Favourite it from the panel; after a reload the Favourites tab lists it.
  await details.getByRole('button', { name: /favourites/i }).click();
  assert.equal(await details.getByRole('button', { name: /favourite/i }).getAttribute('aria-pressed'), 'true');
  await page.reload();
  await page.locator('.link[data-state=live]').waitFor();
  await page.getByRole('tab', { name: 'Favourites' }).click();
  await waitRows(page, (n) => n.length === 1 && n[0] === name, 'the favourite');
  assert.equal(await page.locator('.scroller .row', { hasText: name }).locator('.star').getAttribute('aria-pressed'), 'true');
  await page.getByRole('tab', { name: 'History' }).click();
  await waitRows(page, (n) => n[0] === name, 'the history');

  // Withdrawn, a favourite stays in its tab, marked offline.
  await list.done();
  await page.getByRole('tab', { name: 'Favourites' }).click();
  await page.locator('.scroller .row.offline', { hasText: name }).waitFor();
});

test('a game with a connect URL gets a launch link; unsafe schemes get none', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const [safe, unsafe] = [unique('gs'), unique('gu')];
  const a = await list.add({ game: safe, name: unique('Launchable '), players: 1, max_players: 4 });
  const b = await list.add({ game: unsafe, name: unique('Unlaunchable '), players: 1, max_players: 4 });
  const context = await browser.newContext();
  t.after(() => context.close());
  // The games' presentation comes from the server's configuration: stand in for it.
  await context.route(/\/api\/v1\/games$/, (route) => route.fulfill({
    json: { games: [
      { game: safe, name: 'Safe Game', connect_url: 'safegame://connect/{host}/{port}?a={addr}', servers: 1, players: 1, bots: 0 },
      { game: unsafe, name: 'Unsafe Game', connect_url: 'javascript:window.pwned=1//{addr}', servers: 1, players: 1, bots: 0 },
    ] },
  }));
  const page = await open(context);
  await waitRows(page, (n) => n.includes(a.name) && n.includes(b.name), 'both servers');

  await page.locator('.scroller .row', { hasText: a.name }).click();
  const [host, port] = a.address.split(':');
  const launchLink = page.locator('#details').getByRole('link', { name: 'Launch game' });
  assert.equal(await launchLink.getAttribute('href'), `safegame://connect/${host}/${port}?a=${a.address}`);
  assert.equal(await page.locator('#details dd', { hasText: 'Safe Game' }).count(), 1);

  await page.locator('.scroller .row', { hasText: b.name }).click();
  await page.locator('#details h2', { hasText: b.name }).waitFor();
  assert.equal(await page.locator('#details a').count(), 0);
});
