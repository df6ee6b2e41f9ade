#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Where a plugin's start goes: each piece of the bundle's start-up timed alone, interleaved, with
// a runtime-like environment (env -i, the CNI variables, PATH), against the Go reference's start.
//
//   node bench/startup/bench.mjs [runs=40]
//
// Rows, each a VERSION run unless it says otherwise (medians and p90 of wall time and of CPU time,
// user + system, from wait4 through Python's os.wait4):
//   runtime alone          the payload's node -e 0: the floor of any Node start
//   launcher + dispatcher  our launcher under a name that is no plugin: launcher, node, main.cjs
//   bridge                 the bridge plugin's VERSION as a runtime runs it
//   bridge, no code cache  the same from a copy of the payload without its .v8cache files
//   bridge, NODE_* set     NODE_OPTIONS and NODE_EXTRA_CA_CERTS in its environment (dropped)
//   Go bridge              /usr/lib/cni/bridge VERSION
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.CNI_BUNDLE_BIN ?? join(root, 'apps/cni-bundle/dist/bin');
const runs = Number(process.argv[2] ?? 40);
const payload = join(bin, readlinkSync(join(bin, 'cni-bundle')).split('/')[0]);
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

// A copy of the payload without code caches, and a link under a name that is no plugin.
const scratch = mkdtempSync(join(tmpdir(), 'bench-startup-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
const uncached = join(scratch, 'payload');
cpSync(payload, uncached, { recursive: true });
for (const file of readdirSync(join(uncached, 'plugins'))) if (file.endsWith('.v8cache')) rmSync(join(uncached, 'plugins', file));
symlinkSync(join(payload, 'cni-bundle'), join(scratch, 'nosuch'));
symlinkSync(join(uncached, 'cni-bundle'), join(scratch, 'bridge'));

const cases = [
  { name: 'runtime alone (node -e 0)', argv: [join(payload, 'node'), '-e', '0'], env: { PATH } },
  { name: 'launcher + dispatcher', argv: [join(scratch, 'nosuch')], env: { PATH, CNI_COMMAND: 'VERSION' }, failOk: true },
  { name: 'bridge VERSION', argv: [join(bin, 'bridge')], env: { PATH, CNI_COMMAND: 'VERSION' } },
  { name: 'bridge VERSION, no code cache', argv: [join(scratch, 'bridge')], env: { PATH, CNI_COMMAND: 'VERSION' } },
  {
    name: 'bridge VERSION, NODE_* set',
    argv: [join(bin, 'bridge')],
    env: { PATH, CNI_COMMAND: 'VERSION', NODE_OPTIONS: '--max-old-space-size=100', NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' },
  },
  { name: 'Go bridge VERSION', argv: ['/usr/lib/cni/bridge'], env: { PATH, CNI_COMMAND: 'VERSION' } },
];

// Python's os.wait4 gives each run's CPU time; Node's spawn does not.
const timer = join(scratch, 'time.py');
writeFileSync(
  timer,
  `import json, os, sys, time
spec = json.loads(sys.argv[1])
out = []
for case in spec:
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        fd = os.open('/dev/null', os.O_RDWR)
        os.dup2(fd, 0); os.dup2(fd, 1); os.dup2(fd, 2)
        os.execve(case['argv'][0], case['argv'], case['env'])
    _, status, usage = os.wait4(pid, 0)
    out.append([(time.perf_counter() - t) * 1000, (usage.ru_utime + usage.ru_stime) * 1000, os.waitstatus_to_exitcode(status)])
print(json.dumps(out))
`,
);

const samples = cases.map(() => ({ wall: [], cpu: [] }));
for (let round = 0; round <= runs; round++) {
  // Rotated order each round, so that no case always follows another; round 0 warms up.
  const order = cases.map((_, i) => (i + round) % cases.length);
  const out = spawnSync('python3', [timer, JSON.stringify(order.map((i) => cases[i]))], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`bench/startup: ${out.stderr}`);
  const results = JSON.parse(out.stdout);
  order.forEach((caseIndex, k) => {
    const [wall, cpu, code] = results[k];
    if (code !== 0 && !cases[caseIndex].failOk) throw new Error(`bench/startup: ${cases[caseIndex].name} exited ${code}`);
    if (round > 0) {
      samples[caseIndex].wall.push(wall);
      samples[caseIndex].cpu.push(cpu);
    }
  });
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const rows = cases.map((c, i) => ({
  name: c.name,
  wallMedian: quantile(samples[i].wall, 0.5),
  wallP90: quantile(samples[i].wall, 0.9),
  cpuMedian: quantile(samples[i].cpu, 0.5),
  cpuP90: quantile(samples[i].cpu, 0.9),
}));
console.log(`start-up pieces, ${runs} runs each, ms (load ${(await import('node:os')).loadavg()[0].toFixed(2)})`);
console.log('case                              wall med  wall p90   cpu med   cpu p90');
for (const r of rows) {
  console.log(`${r.name.padEnd(32)} ${r.wallMedian.toFixed(1).padStart(9)} ${r.wallP90.toFixed(1).padStart(9)} ${r.cpuMedian.toFixed(1).padStart(9)} ${r.cpuP90.toFixed(1).padStart(9)}`);
}
writeFileSync(join(root, 'bench/results/startup.json'), `${JSON.stringify({ runs, date: new Date().toISOString(), rows }, null, 2)}\n`);
