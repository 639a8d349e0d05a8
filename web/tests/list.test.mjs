// The live server list: announced servers appear, change and go without a reload,
// and the filters narrow the list.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { has, lacks, launch, open, servers, unique, update, waitRows } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

test('the page lists a server announced through the API', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const name = unique('Listed ');
  await list.add({ game: unique('g'), name, players: 2, max_players: 8, map: 'dm1' });
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await open(context);
  await waitRows(page, has(name), `row ${name}`);
  const row = page.locator('.scroller .row', { hasText: name });
  assert.equal(await row.locator('.c-players').textContent(), '2/8');
  assert.equal(await row.locator('.c-map').textContent(), 'dm1');
  assert.ok(await page.evaluate(() => performance.getEntriesByName('glou:first-rows').length === 1));
});

test('servers appear, change and disappear without a reload', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await open(context);
  await page.evaluate(() => (window.notReloaded = true));

  const game = unique('g');
  const name = unique('Fresh ');
  const entry = await list.add({ game, name, players: 1, max_players: 10 });
  await waitRows(page, has(name), 'the new server');

  const renamed = unique('Renamed ');
  await update(entry, { name: renamed, players: 7 });
  await waitRows(page, (n) => n.includes(renamed) && !n.includes(name), 'the renamed server');
  const row = page.locator('.scroller .row', { hasText: renamed });
  assert.equal(await row.locator('.c-players').textContent(), '7/10');

  await list.done();
  await waitRows(page, lacks(renamed), 'the withdrawn server to go');
  assert.equal(await page.evaluate(() => window.notReloaded), true);
  assert.ok(Number(await page.evaluate(() => document.body.dataset.seq)) > 0);
});

test('filters narrow the list: text, hide empty, game', async (t) => {
  const list = servers();
  t.after(() => list.done());
  const token = unique('flt');
  const [g1, g2] = [unique('ga'), unique('gb')];
  const busy = `${token} busy`;
  const empty = `${token} empty`;
  const other = `${token} other game`;
  const unrelated = unique('Unrelated ');
  await list.add({ game: g1, name: busy, players: 3, max_players: 8 });
  await list.add({ game: g1, name: empty, players: 0, max_players: 8 });
  await list.add({ game: g2, name: other, players: 2, max_players: 8 });
  await list.add({ game: g2, name: unrelated, players: 5, max_players: 8 });

  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await open(context);
  await waitRows(page, (n) => [busy, empty, other, unrelated].every((x) => n.includes(x)), 'all four');

  await page.getByLabel('Search').fill(token);
  const sorted = (n) => [...n].sort().join('|');
  await waitRows(page, (n) => sorted(n) === sorted([busy, empty, other]), 'the text filter');

  await page.getByLabel('Hide empty').check();
  await waitRows(page, (n) => sorted(n) === sorted([busy, other]), 'hide empty');

  await page.locator('#f-game').locator(`option[value="${g1}"]`).waitFor({ state: 'attached', timeout: 15_000 });
  await page.locator('#f-game').selectOption(g1);
  await waitRows(page, (n) => sorted(n) === sorted([busy]), 'the game filter');

  await page.getByLabel('Hide empty').uncheck();
  await waitRows(page, (n) => sorted(n) === sorted([busy, empty]), 'the game filter without hide empty');
  // Busiest first by default; sorting by name puts "busy" before "empty" too, reversed next.
  await page.getByRole('button', { name: 'Server', exact: true }).click();
  assert.equal(await page.locator('[role=columnheader]', { hasText: 'Server' }).getAttribute('aria-sort'), 'ascending');
  await waitRows(page, (n) => n.join('|') === [busy, empty].join('|'), 'sorted by name');
  await page.getByRole('button', { name: 'Server', exact: true }).click();
  await waitRows(page, (n) => n.join('|') === [empty, busy].join('|'), 'sorted by name, reversed');
});
