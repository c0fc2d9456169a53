// Bundles the admin UI into one directory the gateway embeds (crates/junction-ui/build.rs).
// Usage: node build.mjs [out-dir]   (default: dist)
// With --watch it rebuilds on change; run the gateway with JUNCTION_UI_DIR=<out-dir> to serve
// those files from disk while working on the UI.
import { build, context } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const watch = args.includes('--watch');
const out = args.find((a) => !a.startsWith('--')) ?? 'dist';
mkdirSync(out, { recursive: true });
copyFileSync('index.html', join(out, 'index.html'));

const options = {
  entryPoints: { app: 'src/main.tsx' },
  bundle: true,
  outdir: out,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: !watch,
  sourcemap: watch ? 'inline' : false,
  legalComments: 'none',
  logLevel: 'warning',
};

if (watch) {
  const ctx = await context(options);
  await ctx.watch();
  console.log(`watching src/, writing ${out}`);
} else {
  await build(options);
}
