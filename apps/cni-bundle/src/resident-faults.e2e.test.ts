// SPDX-License-Identifier: Apache-2.0
// Resident mode when things go wrong, on the built bundle: a worker killed in the middle of an ADD
// and of a DEL, a request that hangs past the daemon's limit, the daemon killed, and 200 requests
// at once against 4 workers. After each, the runtime's usual DEL leaves nothing behind (links,
// leases). A delegate IPAM script that waits while a marker file exists makes a request last as
// long as the test needs: it is not ours, so the worker executes it, as a runtime would.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binDir, spawnDaemon, startResident, waitFor, type Outcome, type ResidentFixture } from './resident.fixture.ts';

const isRoot = process.getuid?.() === 0;
const WORKERS = 4;

let fixture: ResidentFixture;
let container: string;
let scripts: string;
let marker: string;
let pidFile: string;

beforeAll(async () => {
  fixture = await startResident(['--workers', String(WORKERS), '--request-timeout', '4000']);
  container = `cni-faults-ctr-${process.pid}`;
  spawnSync('ip', ['netns', 'add', container]);
  scripts = join(fixture.dir, 'scripts');
  mkdirSync(scripts);
  marker = join(fixture.dir, 'hold');
  pidFile = join(fixture.dir, 'held.pid');
  // Waits while the marker exists, then is host-local (ours, executed: a request of its own).
  writeFileSync(
    join(scripts, 'slow-ipam'),
    `#!/bin/sh\nif [ -e ${marker} ]; then echo $$ > ${pidFile}; while [ -e ${marker} ]; do sleep 0.05; done; fi\nexec ${join(binDir, 'host-local')}\n`,
    { mode: 0o755 },
  );
}, 60_000);

afterAll(async () => {
  rmSync(marker, { force: true });
  if (container) spawnSync('ip', ['netns', 'del', container]);
  if (fixture) await fixture.stop();
}, 30_000);

const dataDir = () => join(fixture.dir, 'ipam');
const conf = (ipam = 'slow-ipam') =>
  JSON.stringify({ cniVersion: '1.1.0', name: 'faultnet', type: 'bridge', bridge: 'flt0', ipam: { type: ipam, dataDir: dataDir(), ranges: [[{ subnet: '10.233.0.0/16' }]] } });
const env = (command: string, id: string, ifname = 'eth0') => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: id,
  CNI_NETNS: `/var/run/netns/${container}`,
  CNI_IFNAME: ifname,
  // The script first; host-local, the delegate it ends in, from the bundle.
  CNI_PATH: `${scripts}:${binDir}`,
});

/** Leases host-local holds (files named by address). */
const leases = () => (existsSync(join(dataDir(), 'faultnet')) ? readdirSync(join(dataDir(), 'faultnet')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : []);
/** Links in the container namespace other than lo. */
const containerLinks = () =>
  (JSON.parse(spawnSync('ip', ['-n', container, '-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as { ifname: string }[]).map((l) => l.ifname).filter((n) => n !== 'lo');
/** veths on the daemon's side (the "host" of the test). */
const hostVeths = () =>
  (JSON.parse(spawnSync('ip', ['-n', fixture.netns, '-j', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' }).stdout) as { ifname: string }[]).map((l) => l.ifname);

/** Wait until the held delegate runs, and give its worker's pid (the busy one). */
async function heldWorker(): Promise<number> {
  await waitFor('the delegate to be held', () => existsSync(pidFile));
  const status = await fixture.status();
  const busy = status.workers.filter((w) => w.state === 'busy');
  expect(busy).toHaveLength(1);
  return busy[0]!.pid;
}

async function allReady(): Promise<void> {
  await waitFor('every worker to be ready', async () => (await fixture.status()).workers.filter((w) => w.state === 'idle').length === WORKERS);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function expectLost(outcome: Outcome, what: RegExp): void {
  expect(outcome.status, outcome.stdout).toBe(1);
  const error = JSON.parse(outcome.stdout) as { code: number; msg: string; details: string };
  expect(error.code).toBe(11);
  expect(error.msg).toMatch(/try again later/);
  expect(error.details).toMatch(what);
}

async function cleanDel(id: string): Promise<void> {
  rmSync(marker, { force: true });
  const del = await fixture.exec(join(binDir, 'bridge'), env('DEL', id), conf(), 'resident');
  expect(del, del.stdout).toMatchObject({ status: 0, stdout: '' });
  expect(leases()).toEqual([]);
  expect(containerLinks()).toEqual([]);
  expect(hostVeths()).toEqual([]);
}

describe.skipIf(!isRoot)('resident mode under faults (built bundle)', () => {
  it('a worker killed in the middle of an ADD: the runtime gets error 11, the pool a new worker, DEL cleans up', async () => {
    await allReady();
    rmSync(pidFile, { force: true });
    writeFileSync(marker, '');
    const add = fixture.exec(join(binDir, 'bridge'), env('ADD', 'kill-add'), conf(), 'resident');
    const pid = await heldWorker();
    const held = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    expectLost(await add, /worker \(pid \d+\) died \(signal SIGKILL\)/);
    // The request's own programs went with its worker: nothing finishes the ADD later.
    await waitFor('the held delegate to be gone', () => !processAlive(held));
    await allReady();
    expect((await fixture.status()).restarts).toBeGreaterThanOrEqual(1);
    await cleanDel('kill-add');
  }, 60_000);

  it('a worker killed in the middle of a DEL: the launcher runs the DEL itself and it succeeds', async () => {
    const add = await fixture.exec(join(binDir, 'bridge'), env('ADD', 'kill-del'), conf(), 'resident');
    expect(add.status, add.stdout).toBe(0);
    expect(leases()).toHaveLength(1);
    rmSync(pidFile, { force: true });
    writeFileSync(marker, '');
    const del = fixture.exec(join(binDir, 'bridge'), env('DEL', 'kill-del'), conf(), 'resident');
    const pid = await heldWorker();
    // The exec'd retry must not be held too.
    rmSync(marker);
    process.kill(pid, 'SIGKILL');
    const outcome = await del;
    expect(outcome, outcome.stdout).toMatchObject({ status: 0, stdout: '' });
    expect(leases()).toEqual([]);
    expect(containerLinks()).toEqual([]);
    await allReady();
  }, 60_000);

  it('a request that hangs past the limit: its worker and its delegate are killed, error 11, DEL cleans up', async () => {
    rmSync(pidFile, { force: true });
    writeFileSync(marker, '');
    const started = Date.now();
    const add = await fixture.exec(join(binDir, 'bridge'), env('ADD', 'hung'), conf(), 'resident');
    expectLost(add, /ran past the daemon's limit of 4000 ms/);
    expect(Date.now() - started).toBeLessThan(15_000);
    const held = Number(readFileSync(pidFile, 'utf8'));
    await waitFor('the hung delegate to be killed', () => !processAlive(held));
    await allReady();
    await cleanDel('hung');
  }, 60_000);

  it('200 requests at once against 4 workers: all answered, no address twice, memory bounded; DEL frees all', async () => {
    const before = await fixture.status();
    const ids = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
    const hostLocal = join(binDir, 'host-local');
    // A network of its own: whatever happens here, the other tests' lease checks see only theirs.
    const ipam = JSON.stringify({ cniVersion: '1.1.0', name: 'burstnet', type: 'host-local', ipam: { type: 'host-local', dataDir: dataDir(), ranges: [[{ subnet: '10.235.0.0/16' }]] } });
    const burstLeases = () => readdirSync(join(dataDir(), 'burstnet')).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
    const started = performance.now();
    const adds = await fixture.execMany(hostLocal, ids.map((id) => ({ env: env('ADD', id), stdin: ipam })), 'resident');
    process.stderr.write(`200 ADDs at once: ${Math.round(performance.now() - started)} ms\n`);
    for (const add of adds) expect(add.status, add.stdout + add.stderr).toBe(0);
    const addresses = adds.map((add) => (JSON.parse(add.stdout) as { ips: { address: string }[] }).ips[0]!.address);
    expect(new Set(addresses).size).toBe(200);
    expect(burstLeases()).toHaveLength(200);
    const after = await fixture.status();
    process.stderr.write(`${JSON.stringify(after.requests)} ${JSON.stringify(after.latencyMs)}\n`);
    // A request the daemon did not serve ran by exec: the launcher stopped waiting for the daemon's
    // first answer (5 s), and the daemon refused the "go" that never came (or saw the connection
    // closed first). The split depends on the machine's load, so it is reported, not asserted:
    // measured 200 of 200 served at a load average of 26 (the burst takes 9.9 s, host-local's lock
    // runs it one at a time, close to the queue's 10 s limit), and 1 of 200
    // at 228, where the daemon's first answers came after more than 5 s.
    const count = (s: typeof after, outcome: 'served' | 'refused') => s.requests.filter((r) => r.plugin === 'host-local' && r.verb === 'ADD').reduce((sum, r) => sum + r[outcome], 0);
    process.stderr.write(`served by the daemon: ${count(after, 'served') - count(before, 'served')} of 200, ${count(after, 'refused') - count(before, 'refused')} refused after the launcher left\n`);
    expect(after.requests.filter((r) => r.plugin === 'host-local').reduce((sum, r) => sum + r.failed, 0)).toBe(0);
    expect(after.restarts).toBe(before.restarts);
    for (const worker of after.workers) expect(worker.rssBytes).toBeLessThan(256 * 1024 * 1024);
    const dels = await fixture.execMany(hostLocal, ids.map((id) => ({ env: env('DEL', id), stdin: ipam })), 'resident');
    for (const del of dels) expect(del.status, del.stdout).toBe(0);
    expect(burstLeases()).toEqual([]);
  }, 420_000);

  it('the daemon killed in the middle of an ADD: error 11; with no daemon the exec path serves the DEL', async () => {
    await allReady();
    rmSync(pidFile, { force: true });
    writeFileSync(marker, '');
    const add = fixture.exec(join(binDir, 'bridge'), env('ADD', 'kill-daemon'), conf(), 'resident');
    await heldWorker();
    const held = Number(readFileSync(pidFile, 'utf8'));
    const workers = (await fixture.status()).workers.map((w) => w.pid);
    fixture.daemon.kill('SIGKILL');
    expectLost(await add, /closed the connection|stopped answering/);
    // Its workers (and what they started) end with it.
    await waitFor('the workers to end', () => workers.every((pid) => !processAlive(pid)) && !processAlive(held));
    // The socket file is left behind: a stale socket, which the launcher passes by.
    expect(existsSync(fixture.socket)).toBe(true);
    await cleanDel('kill-daemon');
  }, 60_000);

  it('a new daemon takes the socket over while requests stream: the old one drains and exits 0, no request lost', async () => {
    // The daemon was killed above: a first one, then its successor on the same path.
    const first = await spawnDaemon(fixture.netns, fixture.socket, ['--workers', '2']);
    let second: Awaited<ReturnType<typeof spawnDaemon>> | undefined;
    try {
      const hostLocal = join(binDir, 'host-local');
      const ipam = JSON.stringify({ cniVersion: '1.1.0', name: 'faultnet', type: 'host-local', ipam: { type: 'host-local', dataDir: dataDir(), ranges: [[{ subnet: '10.233.0.0/16' }]] } });
      let streaming = true;
      const outcomes: Outcome[] = [];
      const stream = (async () => {
        for (let i = 0; streaming || i < 6; i++) {
          outcomes.push(await fixture.exec(hostLocal, env('ADD', `stream-${i}`), ipam, 'resident'));
          outcomes.push(await fixture.exec(hostLocal, env('DEL', `stream-${i}`), ipam, 'resident'));
        }
      })();
      second = await spawnDaemon(fixture.netns, fixture.socket, ['--workers', '2']);
      expect(await first.exited).toBe(0);
      expect(first.log()).toMatch(/another daemon took over the socket/);
      streaming = false;
      await stream;
      for (const outcome of outcomes) expect(outcome.status, outcome.stdout).toBe(0);
      expect(leases()).toEqual([]);
      const served = (await fixture.status()).requests.reduce((sum, r) => sum + r.served, 0);
      expect(served).toBeGreaterThan(0);
    } finally {
      first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    }
  }, 120_000);
});
