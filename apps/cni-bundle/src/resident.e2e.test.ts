// SPDX-License-Identifier: Apache-2.0
// Resident mode on the built bundle: the same requests give the same bytes, exit status and
// kernel state through the daemon as through the exec path, and every case where the daemon cannot
// take a request ends in the exec path, quickly. One daemon for the whole file (fixture).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badRequests, CNI_PATH, NETNS, type BadRequest } from './bad-requests.fixture.ts';
import { encodeRequest, decodeReply } from './daemon/protocol.ts';
import { binDir, daemonStatus, PATH, runProcess, spawnDaemon, startResident, waitFor, type Outcome, type ResidentFixture } from './resident.fixture.ts';

const isRoot = process.getuid?.() === 0;
const sampleBin = join(binDir, 'sample');

let fixture: ResidentFixture;
let container: string;
let metricsSocket: string;

beforeAll(async () => {
  if (!existsSync(sampleBin)) throw new Error(`"${sampleBin}" is missing: run \`pnpm build\` in apps/cni-bundle first`);
  metricsSocket = join(tmpdir(), `cni-resident-metrics-${process.pid}.sock`);
  fixture = await startResident(['--workers', '2', '--metrics-socket', metricsSocket]);
  container = `cni-resident-ctr-${process.pid}`;
  spawnSync('ip', ['netns', 'add', container]);
}, 60_000);

afterAll(async () => {
  if (container) spawnSync('ip', ['netns', 'del', container]);
  if (fixture) {
    const code = await fixture.stop();
    expect(code).toBe(0);
  }
}, 30_000);

/** Served and refused counts of the daemon, summed over plugins and verbs. */
async function counts(): Promise<{ served: number; failed: number; refused: number }> {
  const status = await fixture.status();
  return status.requests.reduce((sum, r) => ({ served: sum.served + r.served, failed: sum.failed + r.failed, refused: sum.refused + r.refused }), { served: 0, failed: 0, refused: 0 });
}

function same(resident: Outcome, exec: Outcome, label: string): void {
  expect({ status: resident.status, stdout: resident.stdout, stderr: resident.stderr }, label).toEqual({ status: exec.status, stdout: exec.stdout, stderr: exec.stderr });
}

describe.skipIf(!isRoot)('resident mode: the bad-request table gives the exec path\'s bytes', () => {
  const envOf = (row: BadRequest) =>
    Object.fromEntries(Object.entries(row.env).map(([key, value]) => [key, value === NETNS ? `/var/run/netns/${container}` : value === CNI_PATH ? binDir : value]));
  const stdinOf = (row: BadRequest) => (typeof row.stdin === 'string' ? Buffer.from(row.stdin) : new Uint8Array(row.stdin.bytes).fill(0x20));

  it('every row: same stdout, stderr and exit status, served by the daemon', async () => {
    const before = await counts();
    for (const row of badRequests) {
      const [resident, exec] = await Promise.all([fixture.exec(sampleBin, envOf(row), stdinOf(row), 'resident'), fixture.exec(sampleBin, envOf(row), stdinOf(row), 'exec')]);
      same(resident, exec, row.name);
    }
    const after = await counts();
    expect(after.served - before.served).toBe(badRequests.length);
    expect(after.failed - before.failed).toBe(0);
  }, 120_000);
});

describe.skipIf(!isRoot)('resident mode: bridge + host-local', () => {
  const conf = (dataDir: string) => ({
    cniVersion: '1.1.0',
    name: 'resnet',
    type: 'bridge',
    bridge: 'res0',
    isGateway: true,
    ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.232.0.0/24' }]] },
  });
  const env = (command: string, id: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${container}`, CNI_IFNAME: id === 'a' ? 'eth1' : 'eth2', CNI_PATH: binDir });
  /** The parts of a result that do not depend on random MACs and veth names. */
  const stable = (stdout: string) => {
    const r = JSON.parse(stdout) as { ips: unknown; routes: unknown; interfaces: { name: string; sandbox?: string }[] };
    return { ips: r.ips, routes: r.routes, interfaces: r.interfaces.map((i) => ({ name: i.name.startsWith('veth') ? 'veth' : i.name, sandbox: i.sandbox !== undefined })) };
  };

  it('ADD, CHECK and DEL give the exec path\'s results and leave nothing behind', async () => {
    const dir = join(fixture.dir, 'ipam');
    const input = JSON.stringify(conf(dir));
    const before = await counts();
    const resident = await fixture.exec(join(binDir, 'bridge'), env('ADD', 'a'), input, 'resident');
    expect(resident.status, resident.stdout + resident.stderr).toBe(0);
    const exec = await fixture.exec(join(binDir, 'bridge'), env('ADD', 'b'), input, 'exec');
    expect(exec.status, exec.stdout + exec.stderr).toBe(0);
    const a = stable(resident.stdout);
    const b = stable(exec.stdout);
    expect(a.interfaces).toEqual(b.interfaces.map((i) => (i.name === 'eth2' ? { ...i, name: 'eth1' } : i)));
    expect((a.ips as { address: string }[])[0]!.address).toBe('10.232.0.2/24');
    expect((b.ips as { address: string }[])[0]!.address).toBe('10.232.0.3/24');
    // The oracle: iproute2 in the container namespace.
    const addrs = JSON.parse(spawnSync('ip', ['-n', container, '-j', 'addr', 'show', 'eth1'], { encoding: 'utf8' }).stdout) as { addr_info: { local: string }[] }[];
    expect(addrs[0]!.addr_info.map((x) => x.local)).toContain('10.232.0.2');

    const check = await fixture.exec(join(binDir, 'bridge'), env('CHECK', 'a'), JSON.stringify({ ...conf(dir), prevResult: JSON.parse(resident.stdout) }), 'resident');
    expect(check, check.stdout).toMatchObject({ status: 0, stdout: '' });
    for (const id of ['a', 'b']) {
      const del = await fixture.exec(join(binDir, 'bridge'), env('DEL', id), input, id === 'a' ? 'resident' : 'exec');
      expect(del, del.stdout).toMatchObject({ status: 0, stdout: '' });
    }
    // A second DEL is idempotent in both modes, with the same bytes.
    same(await fixture.exec(join(binDir, 'bridge'), env('DEL', 'a'), input, 'resident'), await fixture.exec(join(binDir, 'bridge'), env('DEL', 'a'), input, 'exec'), 'DEL again');
    expect(readdirSync(join(dir, 'resnet')).filter((f) => /^\d/.test(f))).toEqual([]);
    expect(spawnSync('ip', ['-n', container, 'link', 'show', 'eth1']).status).not.toBe(0);
    const after = await counts();
    expect(after.served - before.served).toBe(4);
  }, 60_000);

  it('delegation happens in the worker: strace sees no execve of host-local during a resident ADD and DEL', async () => {
    const dir = join(fixture.dir, 'ipam-strace');
    const input = JSON.stringify(conf(dir));
    const workers = (await fixture.status()).workers.map((w) => w.pid);
    const log = join(fixture.dir, 'strace.log');
    // strace, not our code, is the oracle: it follows the workers and every process they start.
    const tracer = spawn('strace', ['-f', '-e', 'trace=execve', '-o', log, ...workers.flatMap((pid) => ['-p', String(pid)])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let attached = '';
    tracer.stderr.on('data', (c: Buffer) => (attached += c.toString()));
    const exited = new Promise((resolve) => tracer.on('exit', resolve));
    try {
      await waitFor('strace to attach to every worker', () => workers.every((pid) => attached.includes(`Process ${pid} attached`)));
      const before = await counts();
      const add = await fixture.exec(join(binDir, 'bridge'), env('ADD', 'a'), input, 'resident');
      expect(add.status, add.stdout + add.stderr).toBe(0);
      const del = await fixture.exec(join(binDir, 'bridge'), env('DEL', 'a'), input, 'resident');
      expect(del, del.stdout).toMatchObject({ status: 0, stdout: '' });
      expect((await counts()).served - before.served).toBe(2);
    } finally {
      tracer.kill('SIGINT');
      await exited;
    }
    // host-local did run: its lease came and went, in the worker's own process.
    expect(existsSync(join(dir, 'resnet'))).toBe(true);
    expect(readFileSync(log, 'utf8').split('\n').filter((line) => line.includes('execve('))).toEqual([]);
  }, 60_000);
});

describe.skipIf(!isRoot)('resident mode: when the daemon cannot take a request, the exec path answers', () => {
  const version = { CNI_COMMAND: 'VERSION' };
  const expected = '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n';
  const runWith = (socket: string, options: { netns?: string | null; file?: string } = {}) => {
    const ns = options.netns === undefined ? fixture.netns : options.netns;
    const env = { PATH, ...version, CNI_BUNDLE_SOCKET: socket };
    const file = options.file ?? sampleBin;
    return new Promise<Outcome>((resolve) => {
      const started = performance.now();
      const child = spawn(ns === null ? file : 'ip', ns === null ? [] : ['netns', 'exec', ns, file], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - started }));
    });
  };

  it('no socket file', async () => {
    const out = await runWith(join(fixture.dir, 'absent.sock'));
    expect(out).toMatchObject({ status: 0, stdout: expected });
  });

  it('a stale socket file (nobody listens): answered at once', async () => {
    const stale = join(fixture.dir, 'stale.sock');
    // Bind without listening, then exit: the file stays, connect() is refused.
    spawnSync('python3', ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(stale)})`]);
    expect(existsSync(stale)).toBe(true);
    const out = await runWith(stale);
    expect(out).toMatchObject({ status: 0, stdout: expected });
    expect(out.ms).toBeLessThan(5000);
  });

  it('a listener that never answers: the exec path after the launcher\'s wait, not a hang', async () => {
    const silent = join(fixture.dir, 'silent.sock');
    const server: Server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(silent, resolve));
    try {
      const out = await runWith(silent, { netns: null });
      expect(out).toMatchObject({ status: 0, stdout: expected });
      expect(out.ms).toBeLessThan(10_000);
    } finally {
      server.close();
    }
  });

  it('a daemon of another payload refuses, and the launcher of that payload runs the plugin itself', async () => {
    const other = join(fixture.dir, 'other');
    mkdirSync(other);
    const payload = readlinkSync(join(binDir, 'cni-bundle')).split('/')[0]!;
    // Hard links (same file system): a copy of 135 MB costs seconds.
    const copy = spawnSync('cp', ['-al', join(binDir, payload), join(other, '.cni-bundle-0.0.0-000000000000')]);
    if (copy.status !== 0) cpSync(join(binDir, payload), join(other, '.cni-bundle-0.0.0-000000000000'), { recursive: true, verbatimSymlinks: true });
    symlinkSync('.cni-bundle-0.0.0-000000000000/cni-bundle', join(other, 'sample'));
    const before = await counts();
    const out = await runWith(fixture.socket, { file: join(other, 'sample') });
    expect(out).toMatchObject({ status: 0, stdout: expected });
    const after = await counts();
    expect(after.refused - before.refused).toBe(1);
    expect(after.served - before.served).toBe(0);
  });

  it('a different payload installed while requests stream: none lost, the old daemon never serves the new links', async () => {
    const dir = join(fixture.dir, 'opt-stream');
    const install = (launcher: string) =>
      new Promise<number | null>((resolve) => spawn(launcher, ['install', '--dir', dir], { argv0: 'cni-bundle', env: { PATH }, stdio: 'ignore' }).on('exit', resolve));
    expect(await install(join(binDir, 'cni-bundle'))).toBe(0);
    // The next release: the same files under another payload id (hard links; about.json its own file).
    const payload = readlinkSync(join(binDir, 'cni-bundle')).split('/')[0]!;
    const next = join(fixture.dir, 'next-release');
    const copy = spawnSync('cp', ['-al', join(binDir, payload), next]);
    if (copy.status !== 0) cpSync(join(binDir, payload), next, { recursive: true, verbatimSymlinks: true });
    const about = JSON.parse(readFileSync(join(next, 'about.json'), 'utf8')) as { id: string };
    rmSync(join(next, 'about.json'));
    writeFileSync(join(next, 'about.json'), JSON.stringify({ ...about, id: '0.0.0-0123456789ab' }));

    let installed = false;
    let after: Awaited<ReturnType<typeof counts>> | undefined;
    const outcomes: { out: Outcome; afterInstall: boolean }[] = [];
    const start = await counts();
    const stream = (async () => {
      for (let late = 0; late < 5; ) {
        const afterInstall = installed;
        // The first request to start after the install: from here on the links are the new payload's.
        if (afterInstall && after === undefined) after = await counts();
        outcomes.push({ out: await runWith(fixture.socket, { file: join(dir, 'sample') }), afterInstall });
        if (afterInstall) late++;
      }
    })();
    await waitFor('the stream to reach the daemon', async () => (await counts()).served > start.served);
    expect(await install(join(next, 'cni-bundle'))).toBe(0);
    installed = true;
    await stream;
    for (const { out } of outcomes) expect(out).toMatchObject({ status: 0, stdout: expected });
    const end = await counts();
    // The new links ran by exec: the old daemon refused each (payload mismatch) and served none.
    expect(end.served).toBe(after!.served);
    expect(end.refused - after!.refused).toBe(outcomes.filter((o) => o.afterInstall).length);
    expect(readlinkSync(join(dir, 'sample'))).toBe('.cni-bundle-0.0.0-0123456789ab/cni-bundle');
  }, 120_000);

  it('refuses a socket folder others can write to (such as /tmp) and leaves its mode alone', async () => {
    const shared = join(fixture.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const out = spawnSync('ip', ['netns', 'exec', fixture.netns, join(binDir, 'cni-bundle'), 'daemon', '--socket', join(shared, 'd.sock')], { encoding: 'utf8', env: { PATH }, timeout: 30_000 });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain(`the socket's folder ${shared} can be written by others (mode 1777)`);
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
    expect(readdirSync(shared)).toEqual([]);
  }, 60_000);

  it('a worker is replaced after --max-requests requests, and no request is lost to it', async () => {
    const socket = join(fixture.dir, 'recycle.sock');
    const daemon = await spawnDaemon(fixture.netns, socket, ['--workers', '1', '--max-requests', '3']);
    try {
      const first = (await daemonStatus(socket)).workers[0]!.pid;
      for (let i = 0; i < 7; i++) expect(await runWith(socket)).toMatchObject({ status: 0, stdout: expected });
      const status = await daemonStatus(socket);
      expect(status.requests.reduce((sum, r) => sum + r.served, 0)).toBe(7);
      expect(status.recycled).toBe(2);
      expect(status.restarts).toBe(0);
      expect(status.workers.map((w) => w.pid)).not.toContain(first);
    } finally {
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
    }
  }, 60_000);

  it('a caller in another network namespace than the daemon\'s is refused (its "host" differs)', async () => {
    const before = await counts();
    const out = await runWith(fixture.socket, { netns: container });
    expect(out).toMatchObject({ status: 0, stdout: expected });
    const after = await counts();
    expect(after.refused - before.refused).toBe(1);
  });

  it('resident mode off (CNI_BUNDLE_SOCKET empty) never connects', async () => {
    const before = await counts();
    const out = await runWith('');
    expect(out).toMatchObject({ status: 0, stdout: expected });
    expect(await counts()).toEqual(before);
  });

  it('a peer that is not root is refused before the daemon reads a byte', async () => {
    const before = (await fixture.status()).rejectedPeers;
    const client = `
      const net = require('node:net');
      const s = net.connect(process.argv[1]);
      s.on('connect', () => s.write(Buffer.from(process.argv[2], 'hex')));
      let got = 0;
      s.on('data', (c) => (got += c.length));
      s.on('close', () => { process.stdout.write(String(got)); });
      s.on('error', () => {});`;
    const frame = encodeRequest({ payloadId: 'x', name: 'sample', cwd: '/', netns: '', env: { CNI_COMMAND: 'VERSION' }, stdin: Buffer.alloc(0) }).toString('hex');
    // The socket is 0600 in a 0700 folder: nobody cannot even connect. Open both for this check
    // only, so that the daemon's own check (SO_PEERCRED) is what refuses.
    const folder = join(fixture.dir, 'run');
    chmodSync(fixture.dir, 0o711);
    chmodSync(folder, 0o711);
    chmodSync(fixture.socket, 0o666);
    let out;
    try {
      out = spawnSync(process.execPath, ['-e', client, fixture.socket, frame], { uid: 65534, gid: 65534, encoding: 'utf8', env: { PATH } });
    } finally {
      chmodSync(fixture.socket, 0o600);
      chmodSync(folder, 0o700);
      chmodSync(fixture.dir, 0o700);
    }
    // Connected, then closed without one byte of answer.
    expect(out.stdout, out.stderr).toBe('0');
    expect((await fixture.status()).rejectedPeers - before).toBe(1);
  });
});

describe.skipIf(!isRoot)('resident mode: multinet (thick)', () => {
  it('keeps NADs between requests, and the next ADD sees a NAD changed on disk', async () => {
    // One worker, so the second ADD meets the first one's cache.
    const socket = join(fixture.dir, 'multinet.sock');
    const daemon = await spawnDaemon(fixture.netns, socket, ['--workers', '1']);
    const nadDir = join(fixture.dir, 'nads');
    mkdirSync(nadDir, { recursive: true });
    const ipam = (subnet: string) => ({ type: 'host-local', dataDir: join(fixture.dir, 'mn-ipam'), ranges: [[{ subnet }]] });
    const writeNad = (subnet: string) =>
      writeFileSync(join(nadDir, 'side.json'), JSON.stringify({ apiVersion: 'k8s.cni.cncf.io/v1', kind: 'NetworkAttachmentDefinition', metadata: { name: 'side', namespace: 'web' }, spec: { config: JSON.stringify({ cniVersion: '1.0.0', type: 'bridge', bridge: 'mnside0', ipam: ipam(subnet) }) } }));
    const input = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'multinet',
      type: 'multinet',
      nadDir,
      cniDir: join(fixture.dir, 'mn-cache'),
      binDir,
      delegates: [{ cniVersion: '1.0.0', name: 'pods', type: 'bridge', bridge: 'mnpods0', ipam: ipam('10.236.0.0/24') }],
      runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': 'side@side0' } },
    });
    const env = (command: string, id: string) => ({ PATH, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: `/var/run/netns/${container}`, CNI_IFNAME: 'eth0', CNI_PATH: binDir, CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=${id}`, CNI_BUNDLE_SOCKET: socket });
    const run = (command: string, id: string) => runProcess(['ip', 'netns', 'exec', fixture.netns, join(binDir, 'multinet')], env(command, id), input);
    const side0 = () => (JSON.parse(spawnSync('ip', ['-n', container, '-j', 'addr', 'show', 'side0'], { encoding: 'utf8' }).stdout) as { addr_info: { family: string; local: string }[] }[])[0]!.addr_info.filter((a) => a.family === 'inet').map((a) => a.local);
    try {
      writeNad('10.237.0.0/24');
      const first = await run('ADD', 'mn1');
      expect(first.status, first.stdout + first.stderr).toBe(0);
      expect(side0()).toEqual(['10.237.0.2']);
      expect((await run('DEL', 'mn1')).status).toBe(0);
      writeNad('10.238.0.0/24');
      const second = await run('ADD', 'mn2');
      expect(second.status, second.stdout + second.stderr).toBe(0);
      expect(side0()).toEqual(['10.238.0.2']);
      expect((await run('DEL', 'mn2')).status).toBe(0);
      const status = await daemonStatus(socket);
      expect(status.requests.filter((r) => r.plugin === 'multinet').reduce((sum, r) => sum + r.served, 0)).toBe(4);
      expect(status.workers).toHaveLength(1);
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  }, 60_000);
});

describe.skipIf(!isRoot)('resident mode: status, and malformed frames', () => {
  it('answers malformed frames with a refusal and keeps serving', async () => {
    const { connect } = await import('node:net');
    const send = (bytes: Buffer) =>
      new Promise<Buffer>((resolve) => {
        const s = connect(fixture.socket);
        const chunks: Buffer[] = [];
        s.on('connect', () => s.end(bytes));
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('error', () => resolve(Buffer.concat(chunks)));
        s.on('close', () => resolve(Buffer.concat(chunks)));
      });
    const before = (await fixture.status()).badFrames;
    const bad = [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.concat([Buffer.from('CNB1'), Buffer.from([0xff, 0xff, 0xff, 0xff])]),
      Buffer.concat([Buffer.from('CNB1'), Buffer.from([8, 0, 0, 0]), Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0])]),
    ];
    for (const bytes of bad) {
      const reply = decodeReply(await send(bytes));
      expect(reply?.reply.type).toBe('R');
      expect(reply?.reply.one.toString()).toMatch(/^malformed request: /);
    }
    expect((await fixture.status()).badFrames - before).toBe(bad.length);
    const out = await fixture.exec(sampleBin, { CNI_COMMAND: 'VERSION' }, '', 'resident');
    expect(out.status).toBe(0);
  });

  it('serves Prometheus text and readiness on its metrics socket', async () => {
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ socketPath: metricsSocket, path }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^cni_bundle_requests_total\{plugin="sample",verb="VERSION",outcome="served"\} [1-9]\d*$/m);
    expect(metrics.body).toMatch(/^cni_bundle_workers 2$/m);
    expect(metrics.body).toMatch(/^cni_bundle_ready 1$/m);
    expect(await get('/readyz')).toEqual({ status: 200, body: 'ok\n' });
  });

  it('`cni-bundle daemon status` shows workers, requests by plugin and verb, and latency', async () => {
    const out = spawnSync(join(binDir, 'cni-bundle'), ['daemon', 'status', '--socket', fixture.socket], { encoding: 'utf8', env: { PATH } });
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^daemon pid \d+, payload \S+ \(daemon\.sock\), ready/);
    expect(out.stdout).toMatch(/\n {2}sample +VERSION +served \d+/);
    expect(out.stdout).toMatch(/latency \(ms, last \d+\): p50 [\d.]+/);
    writeFileSync(join(fixture.dir, 'status.txt'), out.stdout);
  });
});

describe.skipIf(!isRoot)('resident mode: operations', () => {
  it('`cni-bundle install --resident` writes the systemd units for the folder it installs into', () => {
    const dir = join(fixture.dir, 'install');
    const units = join(dir, 'units');
    const out = spawnSync(join(binDir, 'cni-bundle'), ['install', '--dir', join(dir, 'bin'), '--resident', '--unit-dir', units], { encoding: 'utf8', env: { PATH } });
    expect(out.status, out.stderr).toBe(0);
    const service = readFileSync(join(units, 'cni-bundle.service'), 'utf8');
    expect(service).toContain(`ExecStart=${join(dir, 'bin')}/cni-bundle daemon --log-level info`);
    const socket = readFileSync(join(units, 'cni-bundle.socket'), 'utf8');
    expect(socket).toMatch(/^ListenStream=\/run\/cni-bundle\/daemon\.sock$/m);
    expect(socket).toMatch(/^SocketMode=0600$/m);
    expect(socket).toMatch(/^DirectoryMode=0700$/m);
    // systemd's own parser as the oracle, where it is installed.
    const verify = spawnSync('systemd-analyze', ['verify', join(units, 'cni-bundle.socket'), join(units, 'cni-bundle.service')], { encoding: 'utf8' });
    if (verify.error === undefined) expect(verify.stderr.split('\n').filter((line) => /cni-bundle\.(socket|service)/.test(line))).toEqual([]);
  }, 60_000);

  it('SIGTERM drains: the request in flight finishes, new ones run by exec at once, the daemon exits 0', async () => {
    const scripts = join(fixture.dir, 'drain-scripts');
    const marker = join(fixture.dir, 'drain-hold');
    const started = join(fixture.dir, 'drain-started');
    mkdirSync(scripts);
    writeFileSync(marker, '');
    // A delegate that waits while the marker exists: the request stays in flight.
    writeFileSync(join(scripts, 'held-ipam'), `#!/bin/sh\ntouch ${started}\nwhile [ -e ${marker} ]; do sleep 0.05; done\nexec ${join(binDir, 'host-local')}\n`, { mode: 0o755 });
    const conf = JSON.stringify({ cniVersion: '1.1.0', name: 'drainnet', type: 'bridge', bridge: 'drn0', ipam: { type: 'held-ipam', dataDir: join(fixture.dir, 'drain-ipam'), ranges: [[{ subnet: '10.234.0.0/24' }]] } });
    const env = (command: string) => ({ CNI_COMMAND: command, CNI_CONTAINERID: 'drain', CNI_NETNS: `/var/run/netns/${container}`, CNI_IFNAME: 'eth5', CNI_PATH: `${scripts}:${binDir}` });
    const add = fixture.exec(join(binDir, 'bridge'), env('ADD'), conf, 'resident');
    while (!existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 25));
    fixture.daemon.kill('SIGTERM');
    // The socket goes at once: a plugin now runs by exec, without waiting.
    while (existsSync(fixture.socket)) await new Promise((resolve) => setTimeout(resolve, 25));
    const version = await fixture.exec(sampleBin, { CNI_COMMAND: 'VERSION' }, '', 'resident');
    expect(version.status).toBe(0);
    expect(fixture.daemon.exitCode).toBeNull();
    rmSync(marker);
    const outcome = await add;
    expect(outcome.status, outcome.stdout).toBe(0);
    expect((JSON.parse(outcome.stdout) as { ips: { address: string }[] }).ips[0]!.address).toBe('10.234.0.2/24');
    await new Promise((resolve) => (fixture.daemon.exitCode !== null ? resolve(undefined) : fixture.daemon.once('exit', resolve)));
    expect(fixture.daemon.exitCode).toBe(0);
    const del = await fixture.exec(join(binDir, 'bridge'), env('DEL'), conf, 'resident');
    expect(del, del.stdout).toMatchObject({ status: 0, stdout: '' });
    expect(readdirSync(join(fixture.dir, 'drain-ipam', 'drainnet')).filter((f) => /^\d/.test(f))).toEqual([]);
  }, 60_000);
});
