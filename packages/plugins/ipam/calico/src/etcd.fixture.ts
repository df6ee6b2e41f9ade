// SPDX-License-Identifier: Apache-2.0
// A real etcd cluster for tests: members on loopback ports found free, data in a temporary
// folder, stopped (and the folder removed) by the returned stop().
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Client TLS material made by {@link startEtcd} with `tls: true`. */
export interface EtcdTls {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  process: ChildProcess | undefined;
}

export interface EtcdCluster {
  dir: string;
  members: EtcdMember[];
  endpoints: string[];
  tls: EtcdTls | undefined;
  /** etcdctl's arguments to reach the cluster (endpoints and TLS). */
  ctlArgs: string[];
  /** The index of the member that leads now. */
  leader(): Promise<number>;
  /** SIGKILL a member. */
  kill(index: number): void;
  /** Start a killed member again (same data). */
  restart(index: number): Promise<void>;
  /** `etcdctl get --prefix` as an object key → value. */
  dump(prefix: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function makeTls(dir: string): Promise<EtcdTls & { serverCert: string; serverKey: string }> {
  const ssl = (args: string[]): Promise<unknown> => execFileAsync('openssl', args, { cwd: dir });
  await ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=test-ca']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const name of ['server', 'client']) {
    await ssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    await ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', 'san.ext']);
  }
  return { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'client.crt'), keyFile: join(dir, 'client.key'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key') };
}

/** Start `size` etcd members on loopback and wait until every one answers with a leader. */
export async function startEtcd(options: { size?: number; tls?: boolean } = {}): Promise<EtcdCluster> {
  const size = options.size ?? 3;
  // On tmpfs when there is one: etcd fsyncs every write, which is the test's time, not the plugin's.
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'cnitest-etcd-'));
  const tls = options.tls ? await makeTls(dir) : undefined;
  const scheme = tls ? 'https' : 'http';
  const members: EtcdMember[] = [];
  for (let i = 0; i < size; i++) {
    members.push({ name: `m${i}`, clientUrl: `${scheme}://127.0.0.1:${await freePort()}`, peerUrl: `http://127.0.0.1:${await freePort()}`, process: undefined });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const launch = (member: EtcdMember, state: 'new' | 'existing'): void => {
    const data = join(dir, member.name);
    mkdirSync(data, { recursive: true });
    const args = [
      '--name', member.name,
      '--data-dir', data,
      '--listen-client-urls', member.clientUrl,
      '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl,
      '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', state,
      '--initial-cluster-token', 'cnitest',
      '--heartbeat-interval', '50',
      '--election-timeout', '500',
      '--log-level', 'error',
      '--logger', 'zap',
    ];
    if (tls) args.push('--cert-file', tls.serverCert, '--key-file', tls.serverKey, '--trusted-ca-file', tls.caFile, '--client-cert-auth');
    member.process = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'ignore'] });
  };
  for (const member of members) launch(member, 'new');
  const endpoints = members.map((m) => m.clientUrl);
  const ctlArgs = [`--endpoints=${endpoints.join(',')}`, '--command-timeout=5s'];
  if (tls) ctlArgs.push(`--cacert=${tls.caFile}`, `--cert=${tls.certFile}`, `--key=${tls.keyFile}`);
  const ctl = async (args: string[], endpointsOverride?: string[]): Promise<string> => {
    const base = endpointsOverride ? [`--endpoints=${endpointsOverride.join(',')}`, ...ctlArgs.slice(1)] : ctlArgs;
    const { stdout } = await execFileAsync('etcdctl', [...base, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, maxBuffer: 64 << 20 });
    return stdout;
  };
  const cluster: EtcdCluster = {
    dir,
    members,
    endpoints,
    tls,
    ctlArgs,
    async leader() {
      for (let waited = 0; ; waited += 50) {
        try {
          const live = members.filter((m) => m.process && m.process.exitCode === null && m.process.signalCode === null).map((m) => m.clientUrl);
          const status = JSON.parse(await ctl(['endpoint', 'status', '-w', 'json'], live)) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
          const leader = status.find((s) => s.Status.leader !== 0 && s.Status.header.member_id === s.Status.leader);
          if (leader) return endpoints.indexOf(leader.Endpoint);
        } catch (error) {
          if (waited > 20_000) throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    kill(index) {
      members[index]!.process?.kill('SIGKILL');
    },
    async restart(index) {
      launch(members[index]!, 'existing');
      await cluster.leader();
    },
    async dump(prefix) {
      const out = JSON.parse(await ctl(['get', '--prefix', prefix, '-w', 'json'])) as { kvs?: { key: string; value: string }[] };
      const result: Record<string, string> = {};
      for (const kv of out.kvs ?? []) result[Buffer.from(kv.key, 'base64').toString()] = Buffer.from(kv.value, 'base64').toString();
      return result;
    },
    async stop() {
      await Promise.all(
        members.map(
          (m) =>
            new Promise<void>((resolve) => {
              const proc = m.process;
              if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
              proc.once('exit', () => resolve());
              proc.kill('SIGKILL');
            }),
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.leader();
    // Every member answers a read (a member that joined late may still be catching up).
    for (const url of endpoints) await ctl(['get', '/'], [url]);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
