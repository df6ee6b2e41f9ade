// SPDX-License-Identifier: Apache-2.0
import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { dirname } from 'node:path';
import { openNetlink, type Netlink } from '@cni/netlink';
import { type ClientParams, type Lease, type RetryPolicy, acquire, leaseOf, release, renew, sleep } from './client.ts';
import { type DhcpConfig, DEFAULT_SOCKET_PATH, loadDhcpConfig } from './config.ts';
import { DhcpError, errorText } from './errors.ts';
import { decodeMessage, encodeMessage } from './packet.ts';
import { type DaemonRequest, type DaemonResponse, MAX_LINE, PROTOCOL_VERSION, parseRequest } from './protocol.ts';
import { buildResult } from './result.ts';
import { DEFAULT_STATE_DIR, LeaseStore, type StoredLease, leaseKey } from './store.ts';
import { type DhcpTransport, openTransport } from './transport.ts';

/** Options of {@link startDaemon}; the flags of `dhcp daemon` map onto them. */
export interface DaemonOptions {
  /** The unix socket to listen on (`-socketpath`), default /run/cni/dhcp.sock; its folder is made 0700. */
  socketPath?: string;
  /** A listening socket handed over by systemd (socket activation); `socketPath` is then only reported. */
  listenFd?: number;
  /** Write the daemon's pid here (`-pidfile`); removed on close. */
  pidFile?: string;
  /** Prefix of every netns path (`-hostprefix`), for a daemon in a container that sees the host under a folder. */
  hostPrefix?: string;
  /** Set the broadcast flag also in renewals (`-broadcast`). Unbound messages always carry it. */
  broadcast?: boolean;
  /** Wait for an answer to a renewal and for carrier (`-timeout`), default 10 s. */
  timeoutMs?: number;
  /** Longest wait between retransmissions (`-resendmax`), default 62 s. */
  resendMaxMs?: number;
  /** Longest acquisition (`-resendtimeout`), default 208 s. */
  resendTimeoutMs?: number;
  /** Where leases are kept for a restart (`-statedir`), default /var/lib/cni/dhcp. */
  stateDir?: string;
  /** Log lines (default: stderr). */
  log?: (line: string) => void;
}

/** A lease's state as the daemon tracks it. */
export type AttachmentState = 'acquiring' | 'bound' | 'renewing' | 'rebinding' | 'lost';

/** What {@link DhcpDaemon.attachments} reports of one lease. */
export interface AttachmentInfo {
  readonly containerId: string;
  readonly ifName: string;
  readonly netns: string;
  readonly state: AttachmentState;
  readonly address: string | undefined;
  /** Epoch ms of the last ACK and of expiry. */
  readonly boundAt: number | undefined;
  readonly expiresAt: number | undefined;
}

/** A running daemon. */
export interface DhcpDaemon {
  /** The socket path it serves. */
  readonly socketPath: string;
  /** Leases being kept. */
  attachments(): AttachmentInfo[];
  /** Resolves once the leases found on disk at start have been resumed or dropped. */
  readonly resumed: Promise<void>;
  /**
   * Stop serving and stop every timer, keeping leases on disk for the next start (what SIGTERM
   * does); removes the socket and pid file it made.
   */
  close(): Promise<void>;
}

class Attachment {
  state: AttachmentState = 'acquiring';
  lease: Lease | undefined;
  lostAt: number | undefined;
  readonly abort = new AbortController();
  maintenance: Promise<void> = Promise.resolve();
  acquiring: Promise<Lease> | undefined;

  constructor(
    readonly request: Pick<DaemonRequest, 'containerId' | 'netns' | 'ifName' | 'args' | 'conf'>,
    readonly config: DhcpConfig,
    readonly netnsPath: string,
  ) {}

  get key(): string {
    return leaseKey(this.request.containerId, this.request.ifName);
  }
}

function describeAttachment(a: Attachment): string {
  return `container "${a.request.containerId}" interface "${a.request.ifName}"`;
}

const IFF_LOWER_UP = 0x10000;

/**
 * Start the DHCP daemon: serve the plugin's requests on a unix socket, acquire leases inside
 * containers' namespaces, renew them at T1 and rebind at T2, remove an expired lease's address
 * and keep trying, and resume the leases kept in `stateDir` from a previous run.
 *
 * @example
 * ```ts
 * const daemon = await startDaemon({ socketPath: '/run/cni/dhcp.sock' });
 * process.once('SIGTERM', () => void daemon.close());
 * ```
 */
export async function startDaemon(options: DaemonOptions = {}): Promise<DhcpDaemon> {
  const socketPath = options.socketPath ?? DEFAULT_SOCKET_PATH;
  const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} dhcp: ${line}\n`));
  const hostPrefix = options.hostPrefix ?? '';
  const policy: RetryPolicy = {
    timeoutMs: options.timeoutMs ?? 10_000,
    resendMaxMs: options.resendMaxMs ?? 62_000,
    resendTimeoutMs: options.resendTimeoutMs ?? 208_000,
  };
  const store = new LeaseStore(options.stateDir ?? DEFAULT_STATE_DIR);
  const attachments = new Map<string, Attachment>();
  let closing = false;

  const paramsOf = (attachment: Attachment, mac: string): ClientParams => ({
    mac,
    requestList: attachment.config.requestList,
    provide: attachment.config.provide,
    broadcast: options.broadcast ?? false,
  });

  async function withLink<T>(attachment: Attachment, fn: (nl: Netlink) => Promise<T>): Promise<T> {
    let nl: Netlink;
    try {
      nl = await openNetlink({ netns: attachment.netnsPath });
    } catch (error) {
      throw new DhcpError(`failed to open netns "${attachment.netnsPath}": ${errorText(error)}`, { cause: error });
    }
    try {
      return await fn(nl);
    } finally {
      nl.close();
    }
  }

  /** The link's MAC, after bringing it up and waiting for carrier. */
  async function prepareLink(attachment: Attachment): Promise<string> {
    const { ifName } = attachment.request;
    return withLink(attachment, async (nl) => {
      const link = await nl.link.find({ name: ifName });
      if (link === undefined) throw new DhcpError(`interface "${ifName}" not found in netns "${attachment.netnsPath}"`, { code: 999 });
      if (!link.up) await nl.link.setUp({ name: ifName });
      const deadline = Date.now() + policy.timeoutMs;
      for (;;) {
        const now = await nl.link.get({ name: ifName });
        if ((now.flags & IFF_LOWER_UP) !== 0 || now.operState === 'UP' || now.operState === 'UNKNOWN') return now.mac ?? '00:00:00:00:00:00';
        if (Date.now() >= deadline) {
          throw new DhcpError(`interface "${ifName}" in netns "${attachment.netnsPath}" has no carrier (operstate ${now.operState}) after ${Math.round(policy.timeoutMs / 1000)} s`, { code: 11 });
        }
        await sleep(100, attachment.abort.signal);
        if (attachment.abort.signal.aborted) throw new DhcpError('the acquisition was cancelled');
      }
    });
  }

  async function exchange<T>(attachment: Attachment, fn: (transport: DhcpTransport) => Promise<T>): Promise<T> {
    const transport = await openTransport(attachment.netnsPath, attachment.request.ifName);
    try {
      return await fn(transport);
    } finally {
      transport.close();
    }
  }

  async function macOf(attachment: Attachment): Promise<string | undefined> {
    return withLink(attachment, async (nl) => (await nl.link.find({ name: attachment.request.ifName }))?.mac).catch(() => undefined);
  }

  /** Does the interface hold `address` (CIDR)? undefined when the interface is gone. */
  async function holds(attachment: Attachment, address: string): Promise<boolean | undefined> {
    return withLink(attachment, async (nl) => {
      const link = await nl.link.find({ name: attachment.request.ifName });
      if (link === undefined) return undefined;
      const addresses = await nl.address.list({ link: { name: attachment.request.ifName }, family: 4 });
      return addresses.some((a) => a.cidr === address);
    });
  }

  function persist(attachment: Attachment): void {
    if (attachment.lease === undefined || closing) return;
    const { containerId, netns, ifName, args, conf } = attachment.request;
    store.save({
      version: 1,
      containerId,
      netns,
      ifName,
      args,
      conf,
      ack: encodeMessage(attachment.lease.ack).toString('base64'),
      boundAt: attachment.lease.boundAt,
      lost: attachment.state === 'lost',
    });
  }

  function drop(attachment: Attachment, why: string): void {
    log(`dropping the lease of ${describeAttachment(attachment)}: ${why}`);
    attachment.abort.abort();
    if (attachments.get(attachment.key) === attachment) attachments.delete(attachment.key);
    store.remove(attachment.request.containerId, attachment.request.ifName);
  }

  async function setAddress(attachment: Attachment, present: boolean, address: string): Promise<void> {
    await withLink(attachment, async (nl) => {
      if (present) await nl.address.replace({ name: attachment.request.ifName }, address);
      else await nl.address.del({ name: attachment.request.ifName }, address).catch(() => undefined);
    });
  }

  /** Renew at T1, rebind at T2, and at expiry remove the address and acquire again until it works. */
  async function maintain(attachment: Attachment): Promise<void> {
    const signal = attachment.abort.signal;
    while (!signal.aborted) {
      const lease = attachment.lease!;
      const mac = await macOf(attachment);
      if (signal.aborted) return;
      if (mac === undefined) {
        drop(attachment, `interface "${attachment.request.ifName}" or netns "${attachment.netnsPath}" is gone`);
        return;
      }
      const params = paramsOf(attachment, mac);
      const t1 = lease.boundAt + lease.t1 * 1000;
      const t2 = lease.boundAt + lease.t2 * 1000;
      const expiry = lease.boundAt + lease.leaseTime * 1000;
      const now = Date.now();
      if (attachment.state === 'lost' || now >= expiry) {
        if (attachment.state !== 'lost') {
          attachment.state = 'lost';
          attachment.lostAt = expiry;
          log(`the lease of ${lease.address} for ${describeAttachment(attachment)} expired without renewal: removing the address`);
          await setAddress(attachment, false, lease.address).catch((error) => log(`failed to remove ${lease.address}: ${errorText(error)}`));
          persist(attachment);
        }
        try {
          const fresh = await exchange(attachment, (t) => acquire(t, params, policy, { requestedIp: lease.address.split('/')[0]!, signal, ifName: attachment.request.ifName }));
          if (signal.aborted) return;
          attachment.lease = fresh;
          attachment.state = 'bound';
          attachment.lostAt = undefined;
          if (fresh.address !== lease.address) log(`the lease of ${describeAttachment(attachment)} came back as ${fresh.address}, not ${lease.address}`);
          await setAddress(attachment, true, fresh.address).catch((error) => log(`failed to add ${fresh.address}: ${errorText(error)}`));
          persist(attachment);
          log(`the lease of ${describeAttachment(attachment)} is back: ${fresh.address}`);
        } catch (error) {
          if (signal.aborted) return;
          log(`still no lease for ${describeAttachment(attachment)}: ${errorText(error)}`);
          await sleep(policy.resendMaxMs, signal);
        }
        continue;
      }
      if (now < t1) {
        attachment.state = 'bound';
        await sleep(t1 - now, signal);
        continue;
      }
      const rebinding = now >= t2;
      attachment.state = rebinding ? 'rebinding' : 'renewing';
      let outcome;
      try {
        // A unicast from an interface without the address leaves from 0.0.0.0 and is dropped: broadcast then.
        const held = (await holds(attachment, lease.address).catch(() => false)) === true;
        const renewPolicy = { ...policy, timeoutMs: Math.min(policy.timeoutMs, Math.max(1000, expiry - now)) };
        outcome = await exchange(attachment, (t) => renew(t, params, lease, renewPolicy, rebinding || !held, signal));
      } catch (error) {
        log(`renewal of ${describeAttachment(attachment)} failed: ${errorText(error)}`);
        outcome = { kind: 'silent' as const };
      }
      if (signal.aborted) return;
      if (outcome.kind === 'ack') {
        attachment.lease = outcome.lease;
        attachment.state = 'bound';
        if (outcome.lease.address !== lease.address) await setAddress(attachment, false, lease.address).catch(() => undefined);
        persist(attachment);
        log(`renewed ${outcome.lease.address} for ${describeAttachment(attachment)} (${outcome.lease.leaseTime} s)`);
        continue;
      }
      if (outcome.kind === 'nak') {
        log(`the server refused to renew ${lease.address} for ${describeAttachment(attachment)} (DHCPNAK)`);
        attachment.state = 'lost';
        attachment.lostAt = Date.now();
        await setAddress(attachment, false, lease.address).catch(() => undefined);
        persist(attachment);
        continue;
      }
      // RFC 2131 4.4.5: wait half the time left until T2 (then expiry), at least a few seconds.
      const until = rebinding ? expiry : t2;
      await sleep(Math.max(Math.min(5000, until - Date.now()), Math.floor((until - Date.now()) / 2)), signal);
    }
  }

  function startMaintenance(attachment: Attachment): void {
    attachment.maintenance = maintain(attachment).catch((error) => {
      if (!attachment.abort.signal.aborted) log(`lease maintenance of ${describeAttachment(attachment)} stopped: ${errorText(error)}`);
    });
  }

  function resultOf(attachment: Attachment): unknown {
    return buildResult(attachment.lease!.ack, attachment.config.priority);
  }

  function configOf(request: Pick<DaemonRequest, 'conf' | 'args' | 'containerId' | 'ifName'>): DhcpConfig {
    return loadDhcpConfig({ conf: request.conf, args: request.args, containerId: request.containerId, ifName: request.ifName });
  }

  function requireAttachmentFields(request: DaemonRequest): void {
    if (request.containerId === '') throw new DhcpError('missing container id', { code: 4 });
    if (request.ifName === '') throw new DhcpError('missing interface name', { code: 4 });
  }

  async function add(request: DaemonRequest): Promise<unknown> {
    requireAttachmentFields(request);
    if (request.netns === '') throw new DhcpError('missing netns path', { code: 4 });
    const config = configOf(request);
    const key = leaseKey(request.containerId, request.ifName);
    const existing = attachments.get(key);
    if (existing !== undefined) {
      if (existing.acquiring) await existing.acquiring.catch(() => undefined);
      if (existing.lease !== undefined && existing.state !== 'lost' && attachments.get(key) === existing) return resultOf(existing);
      if (attachments.get(key) === existing) {
        existing.abort.abort();
        attachments.delete(key);
      }
    }
    const attachment = new Attachment(request, config, hostPrefix + request.netns);
    attachments.set(key, attachment);
    const signal = attachment.abort.signal;
    attachment.acquiring = (async () => {
      const mac = await prepareLink(attachment);
      return exchange(attachment, (t) => acquire(t, paramsOf(attachment, mac), policy, { signal, ifName: request.ifName }));
    })();
    try {
      attachment.lease = await attachment.acquiring;
    } catch (error) {
      if (attachments.get(key) === attachment) attachments.delete(key);
      attachment.abort.abort();
      throw error;
    } finally {
      attachment.acquiring = undefined;
    }
    if (signal.aborted) throw new DhcpError(`the attachment of ${describeAttachment(attachment)} was deleted while its lease was acquired`);
    attachment.state = 'bound';
    persist(attachment);
    startMaintenance(attachment);
    log(`leased ${attachment.lease.address} for ${describeAttachment(attachment)} from ${attachment.lease.serverId} (${attachment.lease.leaseTime} s)`);
    return resultOf(attachment);
  }

  async function del(request: DaemonRequest): Promise<void> {
    requireAttachmentFields(request);
    const attachment = attachments.get(leaseKey(request.containerId, request.ifName));
    if (attachment === undefined) {
      log(`DEL of container "${request.containerId}" interface "${request.ifName}": no lease kept`);
      store.remove(request.containerId, request.ifName);
      return;
    }
    attachments.delete(attachment.key);
    attachment.abort.abort();
    await attachment.acquiring?.catch(() => undefined);
    await attachment.maintenance;
    const lease = attachment.lease;
    if (lease !== undefined && attachment.state !== 'lost') {
      try {
        const mac = await macOf(attachment);
        if (mac === undefined) log(`not releasing ${lease.address} for ${describeAttachment(attachment)}: its interface or netns is gone`);
        else {
          const unicast = (await holds(attachment, lease.address).catch(() => false)) === true;
          const sent = await exchange(attachment, (t) => release(t, paramsOf(attachment, mac), lease, unicast));
          log(`${sent ? 'released' : 'could not send the release of'} ${lease.address} for ${describeAttachment(attachment)}`);
        }
      } catch (error) {
        log(`failed to release ${lease.address} for ${describeAttachment(attachment)}: ${errorText(error)}`);
      }
    }
    store.remove(request.containerId, request.ifName);
  }

  async function check(request: DaemonRequest): Promise<void> {
    requireAttachmentFields(request);
    const attachment = attachments.get(leaseKey(request.containerId, request.ifName));
    const what = `container "${request.containerId}" interface "${request.ifName}"`;
    if (attachment === undefined) throw new DhcpError(`the DHCP daemon keeps no lease for ${what}`);
    if (attachment.acquiring) await attachment.acquiring.catch(() => undefined);
    const lease = attachment.lease;
    if (lease === undefined) throw new DhcpError(`the DHCP daemon keeps no lease for ${what}`);
    if (attachment.state === 'lost') {
      const at = new Date(attachment.lostAt ?? lease.boundAt + lease.leaseTime * 1000).toISOString();
      throw new DhcpError(`the DHCP lease of ${lease.address} for ${what} was lost: it expired at ${at} without being renewed by ${lease.serverId}; the address was removed and the daemon keeps trying`);
    }
    const present = await holds(attachment, lease.address);
    if (present === undefined) throw new DhcpError(`interface "${request.ifName}" not found in netns "${attachment.netnsPath}"`);
    if (!present) throw new DhcpError(`the leased address ${lease.address} is not on interface "${request.ifName}" of ${what}`);
  }

  async function handle(request: DaemonRequest): Promise<DaemonResponse> {
    switch (request.verb) {
      case 'ADD':
        return { cniDhcp: PROTOCOL_VERSION, ok: true, result: await add(request) };
      case 'DEL':
        await del(request);
        return { cniDhcp: PROTOCOL_VERSION, ok: true };
      case 'CHECK':
        await check(request);
        return { cniDhcp: PROTOCOL_VERSION, ok: true };
      case 'STATUS':
        if (request.conf['ipam'] !== undefined) configOf({ ...request, containerId: 'status', ifName: 'status' });
        return { cniDhcp: PROTOCOL_VERSION, ok: true };
    }
  }

  function serve(connection: Socket): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let reading = true;
    connection.on('error', () => connection.destroy());
    const answer = (response: DaemonResponse): void => {
      if (!connection.destroyed) connection.end(`${JSON.stringify(response)}\n`);
    };
    connection.on('data', (chunk: Buffer) => {
      if (!reading) return;
      chunks.push(chunk);
      size += chunk.length;
      const newline = chunk.indexOf(10);
      if (newline < 0 && size <= MAX_LINE) return;
      reading = false; // one request per connection
      if (newline < 0) {
        answer({ cniDhcp: PROTOCOL_VERSION, ok: false, error: { code: 6, msg: 'request over 1 MiB' } });
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      let request: DaemonRequest;
      try {
        request = parseRequest(text.slice(0, text.indexOf('\n')));
      } catch (error) {
        answer(errorResponse(error));
        return;
      }
      handle(request).then(answer, (error: unknown) => {
        if (!DhcpError.isInstance(error)) log(`${request.verb} of container "${request.containerId}" failed: ${errorText(error)}`);
        answer(errorResponse(error));
      });
    });
  }

  // The socket: a stale one of a dead daemon is replaced; anything else in the way is an error.
  let server: Server;
  let madeSocket = false;
  if (options.listenFd === undefined) {
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
    if (existsSync(socketPath)) {
      if (!lstatSync(socketPath).isSocket()) throw new DhcpError(`"${socketPath}" exists and is not a socket`);
      if (await answers(socketPath)) throw new DhcpError(`another daemon already listens on "${socketPath}"`);
      rmSync(socketPath, { force: true });
    }
  }
  server = createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenFd === undefined ? socketPath : { fd: options.listenFd }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  madeSocket = options.listenFd === undefined;
  if (options.pidFile !== undefined) writeFileSync(options.pidFile, `${process.pid}\n`);

  const resumed = resume();

  async function resume(): Promise<void> {
    const { leases, skipped } = store.list();
    for (const name of skipped) log(`skipping unreadable lease file "${name}"`);
    await Promise.all(leases.map((stored) => resumeOne(stored)));
  }

  async function resumeOne(stored: StoredLease): Promise<void> {
    let config: DhcpConfig;
    try {
      config = configOf(stored);
    } catch {
      store.remove(stored.containerId, stored.ifName);
      return;
    }
    const attachment = new Attachment(stored, config, hostPrefix + stored.netns);
    attachment.lease = leaseOf(decodeMessage(Buffer.from(stored.ack, 'base64')), stored.boundAt);
    attachment.state = stored.lost ? 'lost' : 'bound';
    if (stored.lost) attachment.lostAt = stored.boundAt + attachment.lease.leaseTime * 1000;
    if (attachments.has(attachment.key)) return;
    const mac = await macOf(attachment);
    if (mac === undefined) {
      drop(attachment, `netns "${attachment.netnsPath}" or its interface is gone`);
      return;
    }
    attachments.set(attachment.key, attachment);
    log(`resuming the lease of ${attachment.lease.address} for ${describeAttachment(attachment)}`);
    startMaintenance(attachment);
  }

  return {
    socketPath,
    resumed,
    attachments: () =>
      [...attachments.values()].map((a) => ({
        containerId: a.request.containerId,
        ifName: a.request.ifName,
        netns: a.request.netns,
        state: a.state,
        address: a.lease?.address,
        boundAt: a.lease?.boundAt,
        expiresAt: a.lease === undefined ? undefined : a.lease.boundAt + a.lease.leaseTime * 1000,
      })),
    async close() {
      if (closing) return;
      closing = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await resumed.catch(() => undefined);
      for (const attachment of attachments.values()) attachment.abort.abort();
      await Promise.all([...attachments.values()].map((a) => Promise.all([a.maintenance, a.acquiring?.catch(() => undefined)])));
      attachments.clear();
      if (madeSocket) rmSync(socketPath, { force: true });
      if (options.pidFile !== undefined) rmSync(options.pidFile, { force: true });
    },
  };
}

function errorResponse(error: unknown): DaemonResponse {
  const code = DhcpError.isInstance(error) ? error.code : 999;
  return { cniDhcp: PROTOCOL_VERSION, ok: false, error: { code, msg: errorText(error) } };
}

/** Does something accept connections on the unix socket at `path`? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
