// Bundles the playground into one directory xxxd serves (default ../build/web):
// index.html, style.css, favicon.svg, app.js and its on-demand chunks
// (language modes). Nothing here fetches anything: esbuild reads node_modules.
//   node build.mjs OUTDIR
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync, rmSync, renameSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '..', 'build', 'web'));
const tmp = `${out}.tmp`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });

await esbuild.build({
  entryPoints: { app: join(here, 'src', 'main.js') },
  bundle: true,
  splitting: true,
  format: 'esm',
  target: ['es2020'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  chunkNames: 'chunks/[name]-[hash]',
  outdir: tmp,
  logLevel: 'warning',
});
for (const f of ['index.html', 'style.css', 'favicon.svg']) cpSync(join(here, 'src', f), join(tmp, f));

// Swap in whole, so a server reading the old directory never sees half of the new one.
if (existsSync(out)) rmSync(out, { recursive: true, force: true });
renameSync(tmp, out);
console.log(`web: built ${out}`);
