// SPDX-License-Identifier: Apache-2.0
// Test fixture (not shipped): a DHCP server namespace with a bridge and dnsmasq, and pod
// namespaces joined to it by veth pairs, all made by the test and removed when it finishes.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';

const exec = promisify(execFile);

/** Run a command, failing with its stderr. */
export async function sh(argv: readonly string[]): Promise<string> {
  try {
    return (await exec(argv[0]!, argv.slice(1), { maxBuffer: 1 << 24 })).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}

/** A pod: a namespace holding `eth0`, one end of a veth whose other end is on the server's bridge. */
export interface Pod {
  readonly name: string;
  readonly path: string;
  readonly containerId: string;
  readonly mac: string;
  /** The server-side end of the veth. */
  readonly port: string;
}

/** The server's lease file, parsed: one entry per lease dnsmasq holds. */
export interface DnsmasqLease {
  readonly expiry: number;
  readonly mac: string;
  readonly address: string;
  readonly clientId: string;
}

/** Options of {@link useLab}. */
export interface LabOptions {
  /** dnsmasq's lease time (`2m` is its shortest). Default `1h`. */
  leaseTime?: string;
  /** Extra dnsmasq arguments. */
  dnsmasqArgs?: readonly string[];
  /** Keep the test's folder and namespaces when the test finishes (for a test that restarts). */
  keep?: boolean;
}

/** The lab of one test. */
export interface Lab {
  /** 10.77.<octet>.0/24 */
  readonly prefix: string;
  readonly server: string;
  readonly dir: string;
  readonly socketPath: string;
  readonly stateDir: string;
  readonly leaseFile: string;
  /** A pod; `mac` gives its eth0 a chosen MAC (two pods sharing one, as ipvlan's do). */
  addPod(options?: { carrier?: boolean; mac?: string }): Promise<Pod>;
  startDnsmasq(): Promise<void>;
  stopDnsmasq(): Promise<void>;
  leases(): DnsmasqLease[];
  /** dnsmasq's log so far. */
  log(): string;
}

/**
 * Make the lab: a server namespace with bridge `br0` (10.77.<octet>.1/24) and dnsmasq serving
 * 10.77.<octet>.10-250 with a router, a DNS server, a domain and option 121 routes; removed with
 * everything in it when the test finishes.
 */
export async function useLab(octet: number, options: LabOptions = {}): Promise<Lab> {
  const tag = `dh${octet}-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `cni-dhcp-${tag}-`));
  const server = `${tag}-s`;
  const prefix = `10.77.${octet}`;
  const namespaces: string[] = [];
  let dnsmasq: ChildProcess | undefined;
  let logFd: number | undefined;
  let count = 0;

  const cleanup = async (): Promise<void> => {
    await stopDnsmasq();
    for (const ns of namespaces.reverse()) await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  onTestFinished(cleanup);

  await sh(['ip', 'netns', 'add', server]);
  namespaces.push(server);
  await sh(['ip', '-n', server, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0']);
  await sh(['ip', '-n', server, 'addr', 'add', `${prefix}.1/24`, 'dev', 'br0']);
  await sh(['ip', '-n', server, 'link', 'set', 'br0', 'up']);

  async function startDnsmasq(): Promise<void> {
    logFd = openSync(join(dir, 'dnsmasq.log'), 'a');
    dnsmasq = spawn(
      'ip',
      [
        'netns', 'exec', server, 'dnsmasq',
        '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root', '--interface=br0', '--bind-interfaces',
        `--pid-file=${join(dir, 'dnsmasq.pid')}`,
        `--dhcp-leasefile=${join(dir, 'leases')}`,
        '--dhcp-authoritative', '--log-dhcp', '--log-facility=-',
        // dnsmasq pings an address before offering it and handles nothing else meanwhile (3 s per new
        // address): with many clients at once that serialises the server, so the lab turns it off.
        '--no-ping',
        `--dhcp-range=${prefix}.10,${prefix}.250,255.255.255.0,${options.leaseTime ?? '1h'}`,
        `--dhcp-option=option:router,${prefix}.1`,
        `--dhcp-option=option:dns-server,${prefix}.53`,
        '--dhcp-option=option:domain-name,pods.test',
        `--dhcp-option=option:classless-static-route,0.0.0.0/0,${prefix}.1,10.99.${octet}.0/24,${prefix}.254`,
        ...(options.dnsmasqArgs ?? []),
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
    // Ready once it logs its range.
    const deadline = Date.now() + 5000;
    while (!readFileSync(join(dir, 'dnsmasq.log'), 'utf8').includes('DHCP, IP range')) {
      if (dnsmasq.exitCode !== null || Date.now() > deadline) throw new Error(`dnsmasq did not start: ${readFileSync(join(dir, 'dnsmasq.log'), 'utf8')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function stopDnsmasq(): Promise<void> {
    const child = dnsmasq;
    dnsmasq = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (logFd !== undefined) closeSync(logFd);
    logFd = undefined;
  }

  await startDnsmasq();

  return {
    prefix,
    server,
    dir,
    socketPath: join(dir, 'dhcp.sock'),
    stateDir: join(dir, 'state'),
    leaseFile: join(dir, 'leases'),
    startDnsmasq,
    stopDnsmasq,
    async addPod(podOptions = {}) {
      const index = count++;
      const name = `${tag}-p${index}`;
      await sh(['ip', 'netns', 'add', name]);
      namespaces.push(name);
      const port = `vp${index}`;
      const mac = podOptions.mac ?? `02:77:${octet.toString(16).padStart(2, '0')}:00:${(index >> 8).toString(16).padStart(2, '0')}:${(index & 0xff).toString(16).padStart(2, '0')}`;
      await sh(['ip', '-n', server, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'address', mac, 'netns', name]);
      await sh(['ip', '-n', server, 'link', 'set', port, 'master', 'br0']);
      if (podOptions.carrier ?? true) await sh(['ip', '-n', server, 'link', 'set', port, 'up']);
      return { name, path: `/var/run/netns/${name}`, containerId: `ctr-${tag}-${index}`, mac, port };
    },
    leases() {
      // dnsmasq rewrites the file whole (truncate, then write): read until two reads 20 ms apart
      // agree, so a read in the middle of a rewrite does not see an empty or partial file.
      const read = () => (existsSync(join(dir, 'leases')) ? readFileSync(join(dir, 'leases'), 'utf8') : '');
      let text = read();
      for (let tries = 0; tries < 25; tries++) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        const again = read();
        if (again === text) break;
        text = again;
      }
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => {
          const [expiry = '0', mac = '', address = '', , clientId = ''] = line.split(' ');
          return { expiry: Number(expiry), mac, address, clientId };
        });
    },
    log: () => (existsSync(join(dir, 'dnsmasq.log')) ? readFileSync(join(dir, 'dnsmasq.log'), 'utf8') : ''),
  };
}

/** The IPv4 addresses on a pod's interface, read with `ip -j` (the oracle, not our netlink). */
export async function podAddresses(pod: Pod, dev = 'eth0'): Promise<string[]> {
  const [link] = JSON.parse(await sh(['ip', '-n', pod.name, '-j', '-4', 'addr', 'show', 'dev', dev])) as { addr_info?: { local: string; prefixlen: number }[] }[];
  return (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

/** The number of open file descriptors of this process. */
export function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}
