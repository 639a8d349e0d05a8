// Measures the web browser against a running Glou (GLOU_URL) holding 10,000 servers:
// first meaningful paint, update latency to the visible list, scroll smoothness and
// page weight. Not a test: `node tests/bench.mjs` (the server needs --allow-private
// and registry.max_per_address of at least 10,000 for 127.0.0.1).

import { gzipSync } from 'node:zlib';
import { BASE, launch, withdraw } from './helpers.mjs';

const COUNT = Number(process.env.BENCH_SERVERS ?? 10_000);
const PARALLEL = 64;
const UPDATES = 21;
const GAMES = ['openarena', 'teeworlds', 'warzone2100', 'freeciv', 'xonotic', 'ddnet', 'quake3', 'wesnoth'];
const MAPS = ['dm1', 'ctf5', 'oasago2', 'Rush', 'Earth', 'q3dm17', 'ctf_gate1', 'NTW'];

async function announceAll() {
  const entries = [];
  let next = 0;
  async function worker() {
    while (next < COUNT) {
      const i = next++;
      const res = await fetch(`${BASE}/api/v1/servers`, {
        method: 'POST',
        body: JSON.stringify({
          game: GAMES[i % GAMES.length], address: `127.0.0.1:${i + 1}`, name: `Bench server ${i} — ${MAPS[i % 8]} all day`,
          map: MAPS[(i >> 3) % 8], players: i % 17, max_players: 16 + (i % 3) * 8, bots: i % 5 === 0 ? 2 : 0,
          version: '1.0', password: i % 11 === 0,
          player_list: Array.from({ length: Math.min(i % 17, 6) }, (_, j) => ({ name: `player${j}`, score: j * 3, ping: 30 + j })),
        }),
      });
      if (!res.ok) throw new Error(`announce ${i}: ${res.status} ${await res.text()}`);
      entries.push(await res.json());
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return entries;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const t0 = Date.now();
const entries = await announceAll();
const announceSeconds = (Date.now() - t0) / 1000;
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('crash', () => console.error('the page crashed'));
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${BASE}/`);
  await page.waitForFunction(() => performance.getEntriesByName('glou:first-rows').length > 0, null, { timeout: 60_000 });
  const firstRows = await page.evaluate(() => performance.getEntriesByName('glou:first-rows')[0].startTime);
  await page.waitForFunction(() => performance.getEntriesByName('glou:snapshot').length > 0, null, { timeout: 60_000 });
  const snapshot = await page.evaluate(() => performance.getEntriesByName('glou:snapshot')[0].startTime);
  const rowsListed = await page.evaluate(() => document.querySelector('[role=grid]').getAttribute('aria-rowcount') - 1);

  // Update latency: the browser sends the PUT itself (one clock) and watches the DOM.
  // The top row is renamed so that it stays on top (names break ties A to Z).
  const byId = new Map(entries.map((e) => [e.id, e]));
  const latencies = [];
  for (let i = 0; i < UPDATES; i++) {
    const id = await page.evaluate(() => document.querySelector('.scroller .row:not([hidden])[aria-rowindex="2"]').dataset.id);
    const { secret } = byId.get(id);
    latencies.push(await page.evaluate(async ({ id, secret, name }) => {
      const seen = new Promise((resolve) => {
        const grid = document.querySelector('.scroller');
        const check = () => {
          if ([...grid.querySelectorAll('.row:not([hidden]) .c-name .text')].some((e) => e.textContent === name)) {
            observer.disconnect();
            resolve(performance.now());
          }
        };
        const observer = new MutationObserver(check);
        observer.observe(grid, { subtree: true, childList: true, characterData: true });
        setTimeout(() => resolve(Infinity), 5000);
      });
      const start = performance.now();
      await fetch(`/api/v1/servers/${id}`, { method: 'PUT', headers: { Authorization: `Bearer ${secret}` }, body: JSON.stringify({ name }) });
      return (await seen) - start;
    }, { id, secret, name: `A bench server renamed ${i} ${Date.now()}` }));
  }

  // Scroll smoothness: scroll 3 seconds through the table, 120 px per frame.
  const frames = await page.evaluate(() => new Promise((resolve) => {
    const scroller = document.querySelector('.scroller');
    const times = [];
    const end = performance.now() + 3000;
    const step = (now) => {
      times.push(now);
      scroller.scrollTop += 120;
      if (now < end) requestAnimationFrame(step);
      else resolve(times.slice(1).map((t, i) => t - times[i]));
    };
    requestAnimationFrame(step);
  }));

  const weight = [];
  for (const file of ['', 'app.js', 'app.css', 'icon.svg']) {
    const body = Buffer.from(await (await fetch(`${BASE}/${file}`)).arrayBuffer());
    weight.push([file || 'index.html', body.length, gzipSync(body, { level: 9 }).length]);
  }
  const total = weight.reduce((n, w) => n + w[2], 0);

  const rows = [
    ['servers announced', `${entries.length} in ${announceSeconds.toFixed(1)} s`],
    ['servers listed in the page', String(rowsListed)],
    ['first meaningful paint (navigation → glou:first-rows)', `${firstRows.toFixed(0)} ms`],
    ['whole list in the page (navigation → glou:snapshot)', `${snapshot.toFixed(0)} ms`],
    [`update → visible row, median of ${UPDATES}`, `${median(latencies).toFixed(1)} ms (p90 ${pct(latencies, 0.9).toFixed(1)}, max ${Math.max(...latencies).toFixed(1)})`],
    ['scroll: frames in 3 s', `${frames.length} (${(frames.length / 3).toFixed(0)} fps), median ${median(frames).toFixed(1)} ms, p95 ${pct(frames, 0.95).toFixed(1)} ms, max ${Math.max(...frames).toFixed(1)} ms, over 50 ms: ${frames.filter((f) => f > 50).length}`],
    ...weight.map(([f, raw, gz]) => [`weight ${f}`, `${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip`]),
    ['page weight, gzip', `${(total / 1024).toFixed(1)} KiB`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`\n${'measure'.padEnd(width)}  figure\n${'-'.repeat(width)}  ${'-'.repeat(40)}`);
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
} finally {
  await browser.close();
  for (let i = 0; i < entries.length; i += 256) await Promise.all(entries.slice(i, i + 256).map(withdraw));
}
