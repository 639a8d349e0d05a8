// Accounts and the lobby: signing in through the UI, and chat between two browsers.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, launch, open, unique } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(() => browser?.close());

test('signing in through the UI shows the name, signing out forgets it', async (t) => {
  const name = `u${unique('').slice(-12)}`;
  await api('POST', '/api/v1/accounts', { name, password: 'correct horse' });
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await open(context);

  await page.getByRole('banner').getByRole('button', { name: 'Sign in' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Password').fill('wrong');
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await dialog.getByRole('alert').filter({ hasText: /./ }).waitFor();
  await dialog.getByLabel('Password').fill('correct horse');
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header .me', { hasText: name }).waitFor();
  await page.locator('.link[data-state=live]').waitFor();

  // The session survives a reload, and the profile view shows the account.
  await page.reload();
  await page.locator('header .me', { hasText: name }).waitFor();
  await page.getByRole('link', { name: 'Profile' }).click();
  await page.locator('.profile-head h2', { hasText: name }).waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('banner').getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('glou.token')), null);
});

test('a chat line sent in one browser appears in another', async (t) => {
  const contexts = await Promise.all([browser.newContext(), browser.newContext()]);
  t.after(() => Promise.all(contexts.map((c) => c.close())));
  const names = [`a${unique('').slice(-12)}`, `b${unique('').slice(-12)}`];
  const pages = [];
  for (const [i, context] of contexts.entries()) {
    const page = await open(context, '#lobby');
    await page.getByLabel('Your name').fill(names[i]);
    await page.getByRole('button', { name: 'Join as guest' }).click();
    await page.locator('#chat-text:enabled').waitFor();
    pages.push(page);
  }
  // Both are in the entry room: each sees the other among its players.
  await pages[1].locator('.members li', { hasText: names[0] }).waitFor();
  await pages[0].locator('.members li', { hasText: names[1] }).waitFor();

  const line = `hello from ${names[0]} <b>not bold</b>`;
  await pages[0].getByLabel('Message').fill(line);
  await pages[0].getByRole('button', { name: 'Send' }).click();
  const seen = pages[1].locator('.chat-log .msg', { hasText: line });
  await seen.waitFor();
  assert.equal(await seen.locator('.from').textContent(), names[0]);
  assert.equal(await pages[1].locator('.chat-log b').count(), 0);
});
