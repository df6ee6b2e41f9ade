#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// What every plugin process pays for @cni/netns and @cni/sys: importing them, opening a namespace,
// and the first withNetns (which binds libc through ffi-rs). Each sample is a fresh process with a
// runtime-like environment (env -i), since these costs happen once per process.
//   pnpm --filter @cni/sys --filter @cni/netns build && node packages/netns/bench/startup.mjs [runs]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const netnsDist = `${here}../dist/index.js`;
const sysDist = `${here}../../sys/dist/index.js`;
if (!existsSync(netnsDist) || !existsSync(sysDist)) {
  console.error('build first: pnpm --filter @cni/sys --filter @cni/netns build');
  process.exit(2);
}

const sample = `
const t0 = performance.now();
// Node's own modules, which every plugin loads anyway: measured apart so they do not count as ours.
await import('node:fs');
await import('node:module');
const t1 = performance.now();
const netns = await import(${JSON.stringify(netnsDist)});
const t2 = performance.now();
const current = netns.openNetns('/proc/self/ns/net');
const t3 = performance.now();
const root = process.getuid() === 0;
if (root) netns.withNetns(current, () => 0);
const t4 = performance.now();
if (root) netns.withNetns(current, () => 0);
const t5 = performance.now();
current.close();
console.log(JSON.stringify({ builtins: t1 - t0, import: t2 - t1, open: t3 - t2, firstWithNetns: t4 - t3, nextWithNetns: t5 - t4 }));
`;

const runs = Number(process.argv[2] ?? 20);
const results = [];
for (let index = 0; index < runs; index++) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', sample], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'utf8' });
  results.push(JSON.parse(out));
}
const keys = Object.keys(results[0]);
const stat = (key) => {
  const values = results.map((result) => result[key]).sort((a, b) => a - b);
  return { min: values[0], median: values[Math.floor(values.length / 2)] };
};
console.log(`@cni/netns startup, ${runs} fresh processes (ms):`);
for (const key of keys) {
  const { min, median } = stat(key);
  console.log(`  ${key.padEnd(15)} min ${min.toFixed(2).padStart(6)}  median ${median.toFixed(2).padStart(6)}`);
}
const total = results.map((result) => result.import + result.open + result.firstWithNetns).sort((a, b) => a - b);
console.log(`  ${'import+open+1st'.padEnd(15)} min ${total[0].toFixed(2).padStart(6)}  median ${total[Math.floor(total.length / 2)].toFixed(2).padStart(6)}`);
