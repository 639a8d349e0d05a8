// People: friends and where they play (live, from presence), the profile with an
// avatar upload, and statistics and rankings after a reported match.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, open, servers, unique } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

/** Registers an account and returns its name and token. */
async function account() {
  const name = `p${unique('').slice(-12)}`;
  await api('POST', '/api/v1/accounts', { name, password: 'correct horse' });
  const { token } = await api('POST', '/api/v1/sessions', { name, password: 'correct horse' });
  return { name, token, auth: { Authorization: `Bearer ${token}` } };
}

/** A browser context signed in as `who` (the token the page keeps after a sign-in). */
async function signedIn(who) {
  const context = await browser.newContext();
  await context.addInitScript((token) => localStorage.setItem('glou.token', token), who.token);
  return context;
}

test('friends show where they play, and follow it live', async (t) => {
  const [me, friend] = [await account(), await account()];
  await api('POST', '/api/v1/friends/requests', { name: friend.name }, me.auth);
  await api('POST', `/api/v1/friends/requests/${me.name}/accept`, undefined, friend.auth);
  const list = servers();
  t.after(() => list.done());
  const game = unique('fr');
  const where = await list.add({
    game, name: `Where ${friend.name} plays`, players: 1, max_players: 8,
    player_list: [{ name: friend.name, score: 3, ping: 20 }],
  });

  const context = await signedIn(me);
  t.after(() => context.close());
  const page = await open(context, '#friends');
  const row = page.locator('li.friend', { hasText: friend.name });
  await row.locator('.where', { hasText: `Where ${friend.name} plays` }).waitFor();

  // The friend leaves that server: the page follows without a reload.
  await api('PUT', `/api/v1/servers/${where.id}`, { player_list: [], players: 0 }, { Authorization: `Bearer ${where.secret}` });
  await page.waitForFunction(
    (name) => ![...document.querySelectorAll('li.friend')].some((li) => li.textContent.includes(`Where ${name} plays`)),
    friend.name, { timeout: 5000 });

  // And a request sent from the page reaches the other account.
  const third = await account();
  await page.getByLabel('Add a friend').fill(third.name);
  await page.getByRole('button', { name: 'Send request' }).click();
  await page.locator('li', { hasText: third.name }).first().waitFor();
  const theirs = await api('GET', '/api/v1/friends', undefined, third.auth);
  assert.deepEqual(theirs.incoming.map((r) => r.name), [me.name]);
});

test('the profile uploads an avatar and shows statistics and rankings', async (t) => {
  const reporter = process.env.GLOU_REPORTER;
  assert.ok(reporter, 'set GLOU_REPORTER=NAME:PASSWORD, an account with report_results (interop/web.sh makes one)');
  const [rname, rpassword] = reporter.split(':');
  const { token: rtoken } = await api('POST', '/api/v1/sessions', { name: rname, password: rpassword });
  const [winner, loser] = [await account(), await account()];
  await api('POST', '/api/v1/games/tictactoe/matches', {
    players: [{ name: winner.name, result: 'win' }, { name: loser.name, result: 'loss' }],
  }, { Authorization: `Bearer ${rtoken}` });

  const context = await signedIn(winner);
  t.after(() => context.close());
  const page = await open(context, '#profile');
  await page.locator('.profile-head h2', { hasText: winner.name }).waitFor();

  // Statistics: one win at TicTacToe, a rating above the start of 1500.
  const stat = page.locator('tr', { hasText: 'tictactoe' });
  await stat.waitFor();
  const cells = await stat.locator('td').allTextContents();
  assert.equal(cells[1], '1–0–0');
  assert.ok(Number(cells[2]) > 1500, `rating ${cells[2]}`);
  await stat.getByRole('button', { name: 'Rankings' }).click();
  const ranked = page.locator('.rankings tr', { hasText: winner.name });
  await ranked.waitFor();
  const rank = Number((await ranked.locator('td').first().textContent()).replace('#', ''));
  const table = await api('GET', `/api/v1/games/tictactoe/rankings?limit=1000`);
  assert.equal(rank, table.rankings.find((r) => r.name === winner.name).rank);

  // The avatar: a 2×2 PNG chosen in the page is stored and shown.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==',
    'base64');
  await page.locator('#avatar-file').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
  await page.waitForFunction(() => {
    const img = document.querySelector('.profile-head img.avatar');
    return img && img.complete && img.naturalWidth > 0 && img.getAttribute('src')?.includes('/avatar');
  }, null, { timeout: 5000 });
  const res = await fetch(`${process.env.GLOU_URL.replace(/\/$/, '')}/api/v1/players/${winner.name}/avatar`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/png');
});
