// Rooms an operator opens and closes while the lobby is open: the room list follows
// live, and a player whose room closes is shown in the entry room, and told why.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, open, unique } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

/** A call to the admin API with GLOU_ADMIN_TOKEN (the server's DATA_DIR/admin.token). */
function admin(method, path, body) {
  const token = process.env.GLOU_ADMIN_TOKEN;
  assert.ok(token, 'set GLOU_ADMIN_TOKEN to the server\'s admin token, DATA_DIR/admin.token (interop/web.sh does)');
  return api(method, `/api/v1/admin${path}`, body, { Authorization: `Bearer ${token}` });
}

/** A page in the lobby as the guest `name`, in the entry room. */
async function guest(name) {
  const context = await browser.newContext();
  const page = await open(context, '#lobby');
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join as guest' }).click();
  await page.locator('#chat-text:enabled').waitFor();
  await page.locator('.members li.me', { hasText: name }).waitFor();
  return { context, page };
}

/** Waits until the chat's title (the room the page shows the user in) is `name`. */
function titled(page, name) {
  return page.waitForFunction((n) => document.querySelector('#room-title')?.textContent === n, name, { timeout: 5000 });
}

test('a room an operator opens appears live; when it closes its players are in the entry room', async (t) => {
  const entry = (await admin('GET', '/rooms')).find((r) => r.id === 0);
  assert.ok(entry, 'the entry room (id 0)');
  const [me, other] = [`r${unique('').slice(-12)}`, `s${unique('').slice(-12)}`];
  const mine = await guest(me);
  t.after(() => mine.context.close());
  const theirs = await guest(other);
  t.after(() => theirs.context.close());
  const { page } = mine;
  await titled(page, entry.name);

  // An operator opens a room: both pages list it without a reload.
  const name = `Room ${unique('').slice(-10)}`;
  const { id } = await admin('POST', '/rooms', { name, description: 'opened by the rooms test' });
  const room = (await admin('GET', '/rooms')).find((r) => r.id === id);
  assert.equal(room?.name, name, `${name} is open as room ${id}`);
  let closed = false;
  t.after(() => closed || admin('DELETE', `/rooms/${room.id}`));
  const button = page.locator('.lobby-rooms button.room', { hasText: name });
  await button.waitFor({ timeout: 5000 });
  await theirs.page.locator('.lobby-rooms button.room', { hasText: name }).waitFor({ timeout: 5000 });

  // One player goes in; the other stays in the entry room.
  await button.click();
  await titled(page, name);
  assert.equal(await button.getAttribute('aria-current'), 'true');
  await page.locator('.members li', { hasText: other }).waitFor({ state: 'detached', timeout: 5000 });
  const inRoom = async () => (await admin('GET', '/players')).find((p) => p.name === me)?.room;
  for (let i = 0; i < 50 && (await inRoom()) !== room.id; i++) await page.waitForTimeout(100);
  assert.equal(await inRoom(), room.id, 'the server has the player in the new room');

  // The operator closes it: it leaves both lists; the player in it is shown in the
  // entry room, with its players, and a notice says why.
  await admin('DELETE', `/rooms/${room.id}`);
  closed = true;
  await button.waitFor({ state: 'detached', timeout: 5000 });
  await theirs.page.locator('.lobby-rooms button.room', { hasText: name }).waitFor({ state: 'detached', timeout: 5000 });
  await titled(page, entry.name);
  const notice = `The room ${name} was closed: you are now in ${entry.name}.`;
  await page.locator('.chat-log .msg.system', { hasText: notice }).waitFor({ timeout: 5000 });
  const current = page.locator('.lobby-rooms button.room[aria-current=true]');
  assert.equal(await current.count(), 1);
  assert.equal(await current.locator('.room-name').textContent(), entry.name);
  await page.locator('.members li', { hasText: other }).waitFor({ timeout: 5000 });
  await page.locator('.members li.me', { hasText: me }).waitFor();
  assert.equal(await inRoom(), 0, 'the server moved the player to the entry room');
  // The one who stayed is not told their room closed.
  assert.equal(await theirs.page.locator('.chat-log .msg', { hasText: 'was closed' }).count(), 0);

  // And the chat goes to the entry room: the other player reads it.
  const line = `back in ${entry.name} ${me}`;
  await page.getByLabel('Message').fill(line);
  await page.getByRole('button', { name: 'Send' }).click();
  await theirs.page.locator('.chat-log .msg', { hasText: line }).waitFor({ timeout: 5000 });
});
