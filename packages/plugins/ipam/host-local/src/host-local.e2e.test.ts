// SPDX-License-Identifier: Apache-2.0
// The built executable driven as a runtime drives it, beside Debian's reference binary on the
// same folders: interop both ways, a differential sequence, concurrency, and SIGKILL at random
// moments of ADD and DEL.
import { spawn } from 'node:child_process';
import { existsSync, type FSWatcher, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execPlugin, pluginEnv, useTempDir, type CniCommand, type PluginRunResult } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { HostLocalAllocator } from './allocator.ts';
import { canonicalizeRangeSet } from './range-set.ts';
import { DiskStore } from './store.ts';

// CNI_TEST_HOSTLOCAL_BIN points at another build of ours (a copy kept away from rebuilds).
const OURS = process.env['CNI_TEST_HOSTLOCAL_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/host-local', import.meta.url));
const REFERENCE = '/usr/lib/cni/host-local';
// host-local never enters the namespace; a path is all the protocol asks for.
const NETNS = '/run/netns/cnitest-hostlocal-none';

interface Call {
  command: CniCommand;
  containerId?: string;
  ifName?: string;
  args?: string;
  conf: Record<string, unknown>;
  timeoutMs?: number;
}

async function cni(binary: string, call: Call): Promise<PluginRunResult> {
  // A rebuild of the bundle while the tests run (tsup cleans dist first) takes the executable
  // away for a moment: wait for it rather than fail on something that is not the plugin's doing.
  for (let waited = 0; ; waited += 100) {
    try {
      const run = await execPlugin(binary, {
        command: call.command,
        containerId: call.containerId ?? 'c',
        ifName: call.ifName ?? 'eth0',
        netns: NETNS,
        cniPath: '/nonexistent',
        conf: call.conf,
        ...(call.args === undefined ? {} : { args: call.args }),
        ...(call.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
      });
      // Node found the file gone while loading it.
      const vanished = run.exitCode !== 0 && run.exitCode !== null && /(Cannot find module|ENOENT: no such file or directory, open) '[^']*host-local'/.test(run.stdout + run.stderr);
      if (!vanished || waited >= 30_000) return run;
    } catch (error) {
      if (waited >= 30_000 || !/ENOENT|no such file/.test(String(error))) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function network(dataDir: string, ipam: Record<string, unknown> = {}, name = 'net'): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name,
    type: 'host-local',
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.10.0.0/24' }]], ...ipam },
  };
}

/** The leases of a store folder: file name to content; `lock`, `last_reserved_ip.N` and dot files left out. */
function leases(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    if (name === 'lock' || name.startsWith('last_reserved_ip.') || name.startsWith('.')) continue;
    out[name] = readFileSync(join(dir, name), 'utf8');
  }
  return out;
}

function ipOf(run: PluginRunResult, index = 0): string {
  expect(run.error, run.stdout + run.stderr).toBeUndefined();
  return (run.result as { ips: { address: string }[] }).ips[index]!.address;
}

// What a runtime can compare between the two: the exit status, the result (the reference
// prints an empty dns object that the spec lets us leave out) or the error's code and text.
function outcome(run: PluginRunResult): unknown {
  if (run.error !== undefined) return { code: run.error.code, msg: run.error.msg };
  const result = run.result as Record<string, unknown> | undefined;
  if (result !== undefined && JSON.stringify(result.dns) === '{}') delete result.dns;
  return { exit: run.exitCode, result };
}

const haveBinaries = existsSync(REFERENCE);

describe.skipIf(!haveBinaries)('host-local executable beside the reference', () => {
  it('is built', () => {
    expect(existsSync(OURS), `${OURS} missing: run "pnpm build" in apps/cni-bundle`).toBe(true);
  });

  it('shares one dataDir with the reference both ways without losing or doubling a lease', async () => {
    const dataDir = await useTempDir('hostlocal-interop');
    const dir = join(dataDir, 'net');
    const conf = network(dataDir, { ranges: [[{ subnet: '10.10.0.0/29' }], [{ subnet: 'fd00:10::/125' }]] });

    // Reference allocates, ours continues the round robin, the reference releases ours.
    const a = await cni(REFERENCE, { command: 'ADD', containerId: 'a', conf });
    expect([ipOf(a, 0), ipOf(a, 1)]).toEqual(['10.10.0.2/29', 'fd00:10::2/125']);
    const b = await cni(OURS, { command: 'ADD', containerId: 'b', conf });
    expect([ipOf(b, 0), ipOf(b, 1)]).toEqual(['10.10.0.3/29', 'fd00:10::3/125']);
    expect(leases(dir)['10.10.0.3']).toBe('b\r\neth0');
    // Each sees the other's leases: a duplicate ADD fails in both, CHECK passes in both.
    expect((await cni(OURS, { command: 'ADD', containerId: 'a', conf })).error?.msg).toBe(
      'failed to allocate for range 0: 10.10.0.2 has been allocated to a, duplicate allocation is not allowed',
    );
    expect((await cni(REFERENCE, { command: 'ADD', containerId: 'b', conf })).error?.msg).toBe(
      'failed to allocate for range 0: 10.10.0.3 has been allocated to b, duplicate allocation is not allowed',
    );
    for (const binary of [OURS, REFERENCE]) {
      for (const id of ['a', 'b']) expect((await cni(binary, { command: 'CHECK', containerId: id, conf })).exitCode).toBe(0);
    }
    expect((await cni(REFERENCE, { command: 'DEL', containerId: 'b', conf })).exitCode).toBe(0);
    expect(Object.keys(leases(dir))).toEqual(['10.10.0.2', 'fd00:10::2']);

    // The other way round: ours allocates (after the reference's last_reserved_ip), the
    // reference continues, ours releases the reference's.
    const c = await cni(OURS, { command: 'ADD', containerId: 'c', conf });
    expect(ipOf(c)).toBe('10.10.0.4/29');
    const d = await cni(REFERENCE, { command: 'ADD', containerId: 'd', conf });
    expect(ipOf(d)).toBe('10.10.0.5/29');
    expect((await cni(OURS, { command: 'DEL', containerId: 'd', conf })).exitCode).toBe(0);
    expect((await cni(OURS, { command: 'DEL', containerId: 'a', conf })).exitCode).toBe(0);
    expect(leases(dir)).toEqual({ '10.10.0.4': 'c\r\neth0', 'fd00:10::4': 'c\r\neth0' });
    // A legacy file (container ID only, as plugins before v0.7 wrote) is released by ours too.
    writeFileSync(join(dir, '10.10.0.6'), 'legacy');
    expect((await cni(OURS, { command: 'DEL', containerId: 'legacy', conf })).exitCode).toBe(0);
    expect((await cni(REFERENCE, { command: 'DEL', containerId: 'c', conf })).exitCode).toBe(0);
    expect(leases(dir)).toEqual({});
  });

  it('keeps a long-lived in-process index right while the reference writes the same folder', async () => {
    const dataDir = await useTempDir('hostlocal-longlived');
    const conf = network(dataDir, { ranges: [[{ subnet: '10.70.0.0/29' }]] });
    const ranges = [canonicalizeRangeSet([{ subnet: '10.70.0.0/29' }])];
    const store = DiskStore.open(dataDir, 'net');
    try {
      const allocator = new HostLocalAllocator(store);
      expect((await allocator.allocate(ranges, [], 'mine1', 'eth0'))[0]!.address).toBe('10.70.0.2/29');
      // The reference takes the next address between two of our calls...
      expect(ipOf(await cni(REFERENCE, { command: 'ADD', containerId: 'go1', conf }))).toBe('10.70.0.3/29');
      // ...which our index learns: the round robin goes on after it, a duplicate is refused.
      expect((await allocator.allocate(ranges, [], 'mine2', 'eth0'))[0]!.address).toBe('10.70.0.4/29');
      await expect(allocator.allocate(ranges, [], 'go1', 'eth0')).rejects.toThrow('10.70.0.3 has been allocated to go1');
      // The reference releases ours; we release the reference's.
      expect((await cni(REFERENCE, { command: 'DEL', containerId: 'mine1', conf })).exitCode).toBe(0);
      expect(await allocator.owned('mine1', 'eth0')).toEqual([]);
      expect((await allocator.release('go1', 'eth0')).map((lease) => lease.file)).toEqual(['10.70.0.3']);
      // Filled up by both, no address twice.
      const got = [
        ...(await allocator.allocate(ranges, [], 'mine3', 'eth0')).map((a) => a.ip.toString()),
        ipOf(await cni(REFERENCE, { command: 'ADD', containerId: 'go2', conf })).split('/')[0]!,
        ...(await allocator.allocate(ranges, [], 'mine4', 'eth0')).map((a) => a.ip.toString()),
        ipOf(await cni(REFERENCE, { command: 'ADD', containerId: 'go3', conf })).split('/')[0]!,
      ];
      expect(new Set([...got, '10.70.0.4']).size).toBe(5);
      await expect(allocator.allocate(ranges, [], 'mine5', 'eth0')).rejects.toThrow('no IP addresses available in range set: 10.70.0.1-10.70.0.6');
      expect(Object.keys(leases(join(dataDir, 'net')))).toHaveLength(5);
    } finally {
      store.close();
    }
  });

  it('answers a sequence of requests as the reference does (results, error codes and texts, store)', async () => {
    const oursDir = await useTempDir('hostlocal-diff-ours');
    const refDir = await useTempDir('hostlocal-diff-ref');
    const ipam = {
      ranges: [
        [{ subnet: '10.20.0.0/29', rangeStart: '10.20.0.3' }, { subnet: '10.20.1.0/30' }],
        [{ subnet: 'fd00:20::/124', gateway: 'fd00:20::f' }],
      ],
      routes: [{ dst: '0.0.0.0/0', gw: '10.20.0.1' }, { dst: '192.168.0.0/16' }],
    };
    const resolvConf = join(oursDir, 'resolv.conf');
    writeFileSync(resolvConf, '# generated\nnameserver 10.0.0.53\nnameserver fd00::53\ndomain corp.example\nsearch a.example b.example\noptions ndots:3 edns0\n');
    const seq: Call[] = [];
    const add = (containerId: string, extra: Partial<Call> = {}, confExtra: Record<string, unknown> = {}): void => {
      seq.push({ command: 'ADD', containerId, conf: confExtra, ...extra });
    };
    add('c1');
    add('c2', { args: 'IP=10.20.0.5' });
    add('c1'); // duplicate
    add('c3', {}, { args: { cni: { ips: ['fd00:20::1'] } } });
    add('c4', { args: 'IP=10.20.0.1' }); // in the subnet but before rangeStart: in no set
    add('c5', { args: 'IP=10.20.1.1' }); // the gateway
    add('c6', {}, { runtimeConfig: { ips: ['10.20.0.9/24'] } }); // outside every set
    add('c7');
    add('c8');
    add('c9'); // set 0 runs out: .3 to .6 and 10.20.1.2
    seq.push({ command: 'DEL', containerId: 'c2', conf: {} });
    add('c10');
    add('c11');
    add('c12');
    seq.push({ command: 'CHECK', containerId: 'c1', conf: {} });
    seq.push({ command: 'CHECK', containerId: 'c2', conf: {} });
    seq.push({ command: 'DEL', containerId: 'nobody', conf: {} });
    seq.push({ command: 'DEL', containerId: 'c1', ifName: 'eth1', conf: {} });
    seq.push({ command: 'ADD', containerId: 'c1', ifName: 'eth1', conf: {} });
    for (const id of ['c7', 'c8', 'c9']) seq.push({ command: 'DEL', containerId: id, conf: {} });
    add('bad', { args: 'FOO=bar' });
    add('bad2', {}, { ipam: { type: 'host-local', ranges: [[{ subnet: '10.30.0.0/31' }]] } });
    add('bad3', {}, { ipam: { type: 'host-local', ranges: [[{ subnet: '10.30.0.1/24' }]] } });
    add('bad4', {}, { ipam: { type: 'host-local', ranges: [[{ subnet: '10.30.0.0/24', rangeStart: '10.31.0.1' }]] } });
    add('bad5', {}, { ipam: { type: 'host-local', ranges: [[{ subnet: '10.30.0.0/24' }], [{ subnet: '10.30.0.0/25' }]] } });
    add('bad6', {}, { ipam: { type: 'host-local', ranges: [[{ subnet: '10.30.0.0/24' }, { subnet: 'fd00::/64' }]] } });
    add('bad7', {}, { ipam: { type: 'host-local' } });
    add('old', {}, { cniVersion: '0.2.0', ipam: { type: 'host-local', ranges: [[{ subnet: '10.40.0.0/24' }], [{ subnet: '10.41.0.0/24' }]] } });
    add('legacy', {}, {
      ipam: { type: 'host-local', subnet: '10.60.0.0/24', rangeStart: '10.60.0.10', gateway: '10.60.0.254', resolvConf, routes: [{ dst: '0.0.0.0/0' }] },
    });
    add('v02', {}, { cniVersion: '0.2.0' });
    add('v03', {}, { cniVersion: '0.3.1' });
    add('v04', {}, { cniVersion: '0.4.0' });

    const seen: unknown[] = [];
    for (const step of seq) {
      const runBoth = await Promise.all(
        [
          [OURS, oursDir],
          [REFERENCE, refDir],
        ].map(([binary, dataDir]) => {
          const conf = { ...network(dataDir!, ipam), ...step.conf };
          const stepIpam = step.conf.ipam as Record<string, unknown> | undefined;
          if (stepIpam !== undefined) conf.ipam = { ...stepIpam, dataDir };
          return cni(binary!, { ...step, conf });
        }),
      );
      const [ours, reference] = runBoth.map(outcome);
      expect(ours, `${step.command} ${step.containerId} ${step.args ?? ''}`).toEqual(reference);
      seen.push(ours);
      expect(leases(join(oursDir, 'net'))).toEqual(leases(join(refDir, 'net')));
    }
    // The sequence is worth comparing: allocations and failures of every kind happened.
    const errors = seen.filter((o) => (o as { code?: number }).code !== undefined);
    expect(errors.length).toBeGreaterThanOrEqual(14);
    expect(seen.filter((o) => (o as { result?: unknown }).result !== undefined).length).toBeGreaterThanOrEqual(8);
    expect(new Set(errors.map((o) => (o as { msg: string }).msg)).size).toBeGreaterThanOrEqual(12);
  });

  it('hands out 50 distinct addresses to 50 ADDs started at once, also with the reference beside ours', async () => {
    for (const mixed of [false, true]) {
      const dataDir = await useTempDir('hostlocal-concurrent');
      const conf = network(dataDir);
      const runs = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          cni(mixed && i % 2 === 1 ? REFERENCE : OURS, { command: 'ADD', containerId: `c${i}`, conf }),
        ),
      );
      const addresses = runs.map((run) => ipOf(run));
      expect(new Set(addresses).size).toBe(50);
      const stored = leases(join(dataDir, 'net'));
      expect(Object.keys(stored)).toHaveLength(50);
      expect(new Set(Object.values(stored)).size).toBe(50);
    }
  });

  it('loses no lease of a live attachment and leaks none when ADD and DEL are killed at random moments', async () => {
    const dataDir = await useTempDir('hostlocal-faults');
    const dir = join(dataDir, 'net');
    const conf = network(dataDir, { ranges: [[{ subnet: '10.50.0.0/24' }], [{ subnet: 'fd00:50::/120' }]] });
    // How long an ADD takes here, four at a time as below, to spread timed kills over its life.
    const probes = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const started = performance.now();
        await cni(OURS, { command: 'ADD', containerId: `probe${i}`, conf });
        return performance.now() - started;
      }),
    );
    for (let i = 0; i < 4; i++) await cni(OURS, { command: 'DEL', containerId: `probe${i}`, conf });
    const duration = Math.max(...probes);

    const live = new Set<string>();
    const given = new Map<string, string[]>();
    const unsure = new Set<string>(); // killed: the runtime must DEL them
    let killed = 0;
    const trials = 220;
    let next = 0;
    const random = (seed: number): number => {
      const x = Math.sin(seed * 9301 + 49297) * 233280;
      return x - Math.floor(x);
    };
    // 20 % of the runs left alone; 45 % killed at a random time of the process's life; 35 %
    // killed right after the store changes (a temporary file, a lease, the journal; any
    // process's), a random 0-2 ms later: inside or just after a critical section.
    const runKilled = (command: 'ADD' | 'DEL', id: string, i: number): Promise<{ code: number | null; stdout: string }> =>
      new Promise((resolve) => {
        const child = spawn(OURS, [], {
          env: pluginEnv({ command, containerId: id, ifName: 'eth0', netns: NETNS, cniPath: '/nonexistent' }),
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stdin.on('error', () => {});
        child.stdin.end(JSON.stringify(conf));
        const kill = (): void => void child.kill('SIGKILL');
        let watcher: FSWatcher | undefined;
        let timer: NodeJS.Timeout | undefined;
        const strategy = random(i + 3000);
        if (strategy < 0.2) {
          // Left alone: the attachments that live on.
        } else if (strategy < 0.65) {
          timer = setTimeout(kill, Math.max(1, Math.round(random(i) * duration * 1.3)));
        } else {
          watcher = watch(dir, () => {
            watcher?.close();
            timer = setTimeout(kill, Math.floor(random(i + 4000) * 3));
          });
        }
        child.on('close', (code) => {
          watcher?.close();
          clearTimeout(timer);
          resolve({ code, stdout });
        });
      });
    const trial = async (i: number): Promise<void> => {
      const victims = [...live];
      if (victims.length > 0 && random(i + 1000) < 0.15) {
        const id = victims[Math.floor(random(i + 2000) * victims.length)]!;
        live.delete(id);
        const run = await runKilled('DEL', id, i);
        if (run.code === 0) return;
        expect(run.code, run.stdout).toBeNull();
        killed++;
        unsure.add(id);
        return;
      }
      const id = `t${i}`;
      const run = await runKilled('ADD', id, i);
      if (run.code === 0) {
        live.add(id);
        given.set(id, (JSON.parse(run.stdout) as { ips: { address: string }[] }).ips.map((ip) => ip.address.split('/')[0]!));
      } else {
        expect(run.code, run.stdout).toBeNull();
        killed++;
        unsure.add(id);
      }
    };
    // Four at a time, so that kills also land while others wait for the lock.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < trials) await trial(next++);
      }),
    );
    // Whatever the kills left, the store reads: every lease file whole.
    const left = leases(dir);
    for (const [ip, owner] of Object.entries(left)) expect(owner, ip).toMatch(/^t\d+\r\neth0$/);
    // The kills landed on both sides of the reservations: some killed ADDs had reserved, some not.
    const owners0 = new Set(Object.values(left).map((owner) => owner.split('\r\n')[0]));
    const killedAdds = [...unsure].filter((id) => !given.has(id));
    const reservedBeforeKill = killedAdds.filter((id) => owners0.has(id)).length;
    console.log(
      `fault injection: ${trials} trials, ${killed} killed (${killedAdds.length} ADD), ` +
        `${reservedBeforeKill} killed ADDs had reserved, ${killedAdds.length - reservedBeforeKill} had not`,
    );
    expect(reservedBeforeKill).toBeGreaterThan(0);
    expect(killedAdds.length - reservedBeforeKill).toBeGreaterThan(0);

    // The runtime's recovery: DEL of every attachment whose ADD or DEL failed, then GC.
    for (const id of unsure) {
      const del = await cni(OURS, { command: 'DEL', containerId: id, conf });
      expect(del.exitCode, `DEL ${id}: ${del.stdout}${del.stderr}`).toBe(0);
    }
    const validAttachments = [...live].map((id) => ({ containerID: id, ifname: 'eth0' }));
    const gc = await cni(OURS, { command: 'GC', conf: { ...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': validAttachments } });
    expect(gc.exitCode, gc.stdout).toBe(0);

    // Every live attachment still holds exactly the addresses its ADD returned.
    const stored = leases(dir);
    for (const id of live) for (const ip of given.get(id)!) expect(stored[ip], `${id} ${ip}`).toBe(`${id}\r\neth0`);
    const owners = Object.values(stored).map((owner) => owner.split('\r\n')[0]);
    // Two leases (one per range set) for each live attachment, nothing else.
    expect(owners.sort()).toEqual([...live, ...live].sort());
    expect(killed).toBeGreaterThanOrEqual(60);
    expect(live.size).toBeGreaterThanOrEqual(5);
    for (const id of live) {
      const check = await cni(OURS, { command: 'CHECK', containerId: id, conf });
      expect(check.exitCode, `CHECK ${id}: ${check.stdout}${check.stderr}`).toBe(0);
    }
    // No temporary file of a killed writer survives; only our index is a dot file.
    expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual(['.cni-index']);
  }, 180_000);
});
