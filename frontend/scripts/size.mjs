// First-screen JavaScript size: the entry script plus every chunk index.html preloads,
// gzipped (level 9, like most static servers). Lazy routes (detail, heartbeats, dashboard with
// ECharts) are listed separately: they load only when visited.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const first = new Set(
  [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]),
);
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
let total = 0;
console.log('first screen:');
for (const f of first) {
  const n = gz(f);
  total += n;
  console.log(`  ${f.padEnd(44)} ${kb(n).padStart(9)} gzip`);
}
console.log(`  ${'TOTAL'.padEnd(44)} ${kb(total).padStart(9)} gzip`);
console.log('loaded on demand:');
for (const f of readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.js'))) {
  const path = `assets/${f}`;
  if (!first.has(path)) console.log(`  ${path.padEnd(44)} ${kb(gz(path)).padStart(9)} gzip`);
}
const limit = 300 * 1024;
if (total > limit) {
  console.error(`first-screen JS ${kb(total)} exceeds the ${kb(limit)} budget`);
  process.exit(1);
}
