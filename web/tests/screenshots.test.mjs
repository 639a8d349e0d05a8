// Screenshots of a populated list for the docs, saved into $GLOU_SCREENSHOTS when it
// is set (docs/screenshots/): the desktop list with details, the phone list and the
// lobby chat. Without it the test still checks the phone layout.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, servers, waitRows } from './helpers.mjs';

const DIR = process.env.GLOU_SCREENSHOTS;
let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

const people = (...names) => names.map((name, i) => ({ name, score: 30 - i * 4, ping: 20 + i * 17 }));
const REALISTIC = [
  { game: 'openarena', name: '[EU] Instagib Arena | Frankfurt', map: 'oasago2', players: 12, max_players: 16, version: '0.8.8',
    rules: { g_gametype: '0', fraglimit: '30', timelimit: '15', sv_hostname: 'Instagib Arena' },
    player_list: people('Grunt', 'Sarge', 'Major', 'Angelyss', 'Kyonshi', 'Tony', 'Ayumi', 'Sorlag', 'Gargoyle', 'Penguin', 'Dark', 'Liz') },
  { game: 'openarena', name: 'OpenArena CTF Madness', map: 'ctf_gate1', players: 8, max_players: 20, bots: 4, version: '0.8.8',
    rules: { g_gametype: '4', capturelimit: '8' }, player_list: people('Merman', 'Skelebot', 'Penguin', 'Beret', 'Assassin', 'Gargoyle', 'Grism', 'Neko') },
  { game: 'openarena', name: 'Noob Friendly DM (no rail)', map: 'oa_dm4', players: 3, max_players: 12, version: '0.8.8', player_list: people('newbie', 'fragger', 'oa_fan') },
  { game: 'openarena', name: 'Rail Only | Chicago', map: 'oa_rpg3dm2', players: 0, max_players: 16, version: '0.8.5' },
  { game: 'teeworlds', name: 'Teeworlds Vanilla CTF #1', map: 'ctf5', players: 14, max_players: 16, version: '0.7.5',
    player_list: people('nameless tee', 'brainless', 'Pulsar', 'Kitty', 'Ninja', 'Hammer', 'Flag Runner', 'Pinky', 'Blu', 'Jumper', 'Tee', 'Hook', 'Grenade', 'Moon') },
  { game: 'teeworlds', name: 'DM Classic — dm1 all day', map: 'dm1', players: 6, max_players: 8, version: '0.7.5', player_list: people('Pulsar', 'kitty', 'zzz', 'Hookmaster', 'Lara', 'Nox') },
  { game: 'teeworlds', name: 'Private clan war', map: 'ctf2', players: 10, max_players: 10, password: true, version: '0.7.5' },
  { game: 'warzone2100', name: 'NTW 4v4 — experienced only', map: 'NTW', players: 7, max_players: 8, version: '4.5.5', password: true,
    player_list: people('Cheese', 'Berserk', 'Tank Lord', 'Vtol Ace', 'Nexus', 'Medic', 'Hover') },
  { game: 'warzone2100', name: 'Rush 2v2, T1 no bases', map: 'Rush', players: 3, max_players: 4, version: '4.5.5', player_list: people('Sensor', 'Scourge', 'Archangel') },
  { game: 'freeciv', name: 'Longturn LT87 — one turn a day', map: 'Earth', players: 48, max_players: 126, version: '3.1.3',
    rules: { turn: '112', ruleset: 'civ2civ3', timeout: '86400' }, player_list: people('Caesar', 'Hammurabi', 'Elizabeth', 'Montezuma', 'Ramesses') },
  { game: 'freeciv', name: 'Friday multiplayer, beginners welcome', map: 'Generator', players: 5, max_players: 10, version: '3.1.3', player_list: people('Otto', 'Ada', 'Mika', 'Sol', 'Ivo') },
];

test('screenshots: desktop with details, phone, lobby', async (t) => {
  const list = servers();
  t.after(() => list.done());
  for (const s of REALISTIC) await list.add(s);
  if (DIR) mkdirSync(DIR, { recursive: true });
  const shot = (page, name) => (DIR ? page.screenshot({ path: join(DIR, name) }) : Promise.resolve());
  const allListed = (n) => REALISTIC.every((s) => n.includes(s.name));

  const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  t.after(() => desktop.close());
  const page = await open(desktop);
  await waitRows(page, allListed, 'the realistic servers');
  await page.locator('.games-list .game', { hasText: /freeciv/i }).waitFor();
  await page.mouse.move(0, 0);
  await shot(page, 'browser-desktop.png');
  await page.locator('.scroller .row', { hasText: REALISTIC[0].name }).click();
  await page.locator('#details h2', { hasText: REALISTIC[0].name }).waitFor();
  await shot(page, 'browser-details.png');

  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
  t.after(() => phone.close());
  const small = await open(phone);
  await waitRows(small, allListed, 'the realistic servers on a phone');
  const fits = await small.evaluate(() => document.documentElement.scrollWidth <= innerWidth);
  assert.ok(fits, 'nothing wider than the phone');
  await shot(small, 'browser-phone.png');

  const lobby = await open(desktop, '#lobby');
  await lobby.getByLabel('Your name').fill(`Pat${String(Date.now()).slice(-4)}`);
  await lobby.getByRole('button', { name: 'Join as guest' }).click();
  await lobby.locator('#chat-text:enabled').waitFor();
  await lobby.getByLabel('Message').fill('Anyone up for a CTF round on ctf_gate1?');
  await lobby.getByRole('button', { name: 'Send' }).click();
  await lobby.locator('.chat-log .msg.normal').waitFor();
  await shot(lobby, 'browser-lobby.png');
});
