// Shared by the Playwright tests and the bench: the Glou under test (GLOU_URL), a
// Chromium, announcing and withdrawing servers, and waiting on the page's rows.

import { chromium } from 'playwright-core';

export const BASE = (process.env.GLOU_URL ?? '').replace(/\/$/, '');
if (!BASE) throw new Error('set GLOU_URL to the base URL of a running Glou (started with --allow-private)');

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

let counter = 0;
/** A name no other test (or earlier run) uses: games are 1–32 of a-z 0-9 . _ - */
export function unique(prefix) {
  counter++;
  return `${prefix}${Date.now().toString(36)}${process.pid.toString(36)}${counter}`.slice(0, 32);
}

/** A port for 127.0.0.1 that is unlikely to collide with another test's. */
export function port() {
  return 1024 + Math.floor(Math.random() * 60000);
}

export async function api(method, path, body, headers = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return data;
}

/** Announces a server; returns {id, secret, ...entry}. */
export async function announce(server) {
  return api('POST', '/api/v1/servers', { address: `127.0.0.1:${port()}`, ...server });
}

export async function update(entry, fields) {
  return api('PUT', `/api/v1/servers/${entry.id}`, fields, { Authorization: `Bearer ${entry.secret}` });
}

export async function withdraw(entry) {
  await fetch(`${BASE}/api/v1/servers/${entry.id}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${entry.secret}` },
  });
}

/** A tracker of announced servers, withdrawn together at the end of a test. */
export function servers() {
  const list = [];
  return {
    async add(server) {
      const entry = await announce(server);
      list.push(entry);
      return entry;
    },
    async done() {
      await Promise.all(list.splice(0).map(withdraw));
    },
  };
}

/** Opens the browser page and waits for the live list. */
export async function open(context, hash = '') {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${BASE}/${hash}`);
  await page.locator('.link[data-state=live]').waitFor({ timeout: 10_000 });
  return page;
}

/** The server names of the rows in the DOM, top to bottom. */
export function rowNames(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.scroller .row:not([hidden])')]
      .sort((a, b) => Number(a.getAttribute('aria-rowindex')) - Number(b.getAttribute('aria-rowindex')))
      .map((r) => r.querySelector('.c-name .text').textContent),
  );
}

/** Waits until `test(names)` holds for the names of the rows in the DOM. */
export async function waitRows(page, test, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let names = [];
  while (Date.now() < deadline) {
    names = await rowNames(page);
    if (test(names)) return names;
    await page.waitForTimeout(50);
  }
  throw new Error(`timed out waiting for ${what}; rows: ${JSON.stringify(names)}`);
}

export const has = (name) => (names) => names.includes(name);
export const lacks = (name) => (names) => !names.includes(name);
