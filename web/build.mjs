// Builds web/dist: app.js and app.css bundled and minified by esbuild, index.html and
// icon.svg copied. The output is deterministic (committed; CI rebuilds and diffs).

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const dir = new URL('.', import.meta.url).pathname;
const out = `${dir}dist`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out);

await build({
  absWorkingDir: dir,
  entryPoints: [{ in: 'src/main.ts', out: 'app' }, { in: 'src/app.css', out: 'app' }],
  outdir: 'dist',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
});
for (const file of ['index.html', 'icon.svg']) copyFileSync(`${dir}${file}`, `${out}/${file}`);
