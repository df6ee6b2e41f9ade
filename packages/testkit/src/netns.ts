// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { registerTeardown, type FixtureScope } from './cleanup.ts';
import { LeakError, TestkitError } from './errors.ts';
import { exec, run, type NetnsRef, type RunOptions, type RunResult } from './exec.ts';
import { addRoute, addVethPair } from './links.ts';
import { findLeaks, takeSnapshot, type LeakOptions, type StateSnapshot } from './snapshot.ts';
import { useTempDir } from './tempdir.ts';

/** Where named network namespaces live (`ip netns add` makes them there). */
export const NETNS_RUN_DIR = '/var/run/netns';

/** A network namespace made by the test kit: its name for `ip -n`, its path for CNI_NETNS. */
export interface TestNamespace {
  readonly name: string;
  readonly path: string;
}

/**
 * Makes a named network namespace with its loopback up. Prefer {@link useTestNetns}, which also
 * removes it; this one is for fixtures that manage the lifetime themselves.
 *
 * Equivalent to `ip netns add NAME && ip -n NAME link set lo up`.
 */
export async function createNetns(name = `cnitest-${randomBytes(4).toString('hex')}`): Promise<TestNamespace> {
  await run(['ip', 'netns', 'add', name]);
  const ns = { name, path: `${NETNS_RUN_DIR}/${name}` };
  try {
    await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await deleteNetns(ns);
    throw error;
  }
  return ns;
}

/** Removes a named namespace; one already gone is not an error. Equivalent to `ip netns del NAME`. */
export async function deleteNetns(ns: NetnsRef): Promise<void> {
  const name = typeof ns === 'string' ? ns : ns.name;
  if (!existsSync(`${NETNS_RUN_DIR}/${name}`)) return;
  await run(['ip', 'netns', 'del', name]);
}

/** Options of {@link useTestNetns}. */
export interface TestNetnsOptions extends FixtureScope {
  /** Make the container namespace too. Default true. */
  container?: boolean;
  /**
   * Give the host namespace an uplink with default routes, as a node has: a veth `uplinkName`
   * (192.0.2.1/24 and 2001:db8:ffff::1/64) whose peer (192.0.2.254, 2001:db8:ffff::fe) lives in a
   * third namespace, `world`, so the gateway answers. Plugins that look for the default-route
   * interface (portmap, masquerade, macvlan/ipvlan without a master) find it. Default false.
   */
  defaultRoute?: boolean;
  /** The name of the uplink in the host namespace. Default `uplink0`. */
  uplinkName?: string;
  /**
   * Fail the test when the machine's own namespace gained a link, address, route, rule, qdisc,
   * nft table or iptables chain during it, or when one of its namespaces was not removed. Default
   * true, unless the environment says `CNI_TESTKIT_LEAK_CHECK=0`: the VM tier does, because there the
   * machine is the throw-away VM and the two snapshots cost about 2.5 s per test under TCG.
   */
  leakCheck?: boolean;
  /**
   * Folders of the machine where the test must not leave files (plugins keep state there by
   * default; tests point dataDir, cacheDir and backups at `dir` instead). Default
   * {@link DEFAULT_WATCHED_FOLDERS}.
   */
  watchFiles?: readonly string[];
}

/** The namespaces of one test, and shortcuts bound to them. */
export interface TestNetns {
  /** The test's "host": plugins run here, bridges, rules and the uplink live here. */
  readonly host: TestNamespace;
  /** The container the plugin configures (CNI_NETNS is `container.path`). Absent with `container: false`. */
  readonly container: TestNamespace;
  /** The far end of the uplink, with `defaultRoute: true`. */
  readonly world: TestNamespace | undefined;
  /** The uplink in the host namespace, with `defaultRoute: true`. */
  readonly uplink: string | undefined;
  /** A fresh folder for this test (dataDir, caches, backups), removed with it. */
  readonly dir: string;
  /** Runs a program in the host namespace. */
  execHost(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Runs a program in the container namespace. */
  execContainer(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Records the host and container namespaces (and `files`) for a later {@link TestNetns.expectNoLeaks}. */
  snapshot(files?: readonly string[]): Promise<StateSnapshot>;
  /** Fails when the host or container namespace (or the snapshot's files) gained anything since `before`. */
  expectNoLeaks(before: StateSnapshot, options?: LeakOptions): Promise<void>;
  /**
   * Records the host and container namespaces now (after the test's own setup) and fails the test
   * at its end when they hold anything more then, before the namespaces are removed: the leak check
   * of a plugin's DEL without an explicit `expectNoLeaks` call.
   */
  checkpoint(options?: LeakOptions & { files?: readonly string[] }): Promise<void>;
}

/** Where plugins and runtimes keep files by default: host-local's /var/lib/cni/networks, libcni's cache, tuning's backups in /run/cni. */
export const DEFAULT_WATCHED_FOLDERS: readonly string[] = ['/var/lib/cni', '/run/cni'];

/** The uplink's addresses with `defaultRoute: true`: host side, gateway. */
export const UPLINK_ADDRESSES = {
  ipv4: { host: '192.0.2.1/24', gateway: '192.0.2.254' },
  ipv6: { host: '2001:db8:ffff::1/64', gateway: '2001:db8:ffff::fe' },
} as const;

/**
 * Makes a fresh host namespace and container namespace for the running test, with loopback up in
 * each, and removes them when the test finishes, passed or failed. Call it inside the test or
 * a `beforeEach` hook. Tests that each use their own namespaces can run in parallel.
 *
 * @example
 * ```ts
 * it('adds a bridge', async () => {
 *   const netns = await useTestNetns({ defaultRoute: true });
 *   await execPlugin(bridgeBin, { command: 'ADD', netns: netns.container.path, hostNetns: netns.host, ... });
 *   expect(await readLink(netns.host, 'cni0')).toBeDefined();
 * });
 * ```
 */
export async function useTestNetns(options: TestNetnsOptions = {}): Promise<TestNetns> {
  const leakCheck = options.leakCheck ?? process.env['CNI_TESTKIT_LEAK_CHECK'] !== '0';
  const before = leakCheck ? await takeSnapshot({ namespaces: [null], files: options.watchFiles ?? DEFAULT_WATCHED_FOLDERS }) : undefined;
  const base = `cnitest-${randomBytes(4).toString('hex')}`;
  const made: TestNamespace[] = [];

  // Registered before anything is made, so a setup that fails halfway still cleans up.
  let checkpoint: { snapshot: StateSnapshot; options: LeakOptions } | undefined;
  registerTeardown(async () => {
    const errors: unknown[] = [];
    if (checkpoint) {
      const leaks = await findLeaks(checkpoint.snapshot, checkpoint.options).catch((error: unknown) => (errors.push(error), []));
      if (leaks.length > 0) errors.push(new LeakError(leaks));
    }
    for (const ns of made.reverse()) await deleteNetns(ns).catch((error: unknown) => errors.push(error));
    if (before) {
      const leaks = await findLeaks(before);
      for (const ns of made) if (existsSync(ns.path)) leaks.push(`netns "${ns.name}" was not removed`);
      if (leaks.length > 0) errors.push(new LeakError(leaks));
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'failed to tear down the test namespaces');
  }, options);

  const make = async (suffix: string): Promise<TestNamespace> => {
    const ns = await createNetns(`${base}-${suffix}`);
    made.push(ns);
    return ns;
  };

  const [host, container, dir] = await Promise.all([
    make('h'),
    options.container === false ? Promise.resolve(undefined) : make('c'),
    useTempDir(base.slice('cnitest-'.length), options),
  ]);

  let world: TestNamespace | undefined;
  let uplink: string | undefined;
  if (options.defaultRoute) {
    world = await make('w');
    uplink = options.uplinkName ?? 'uplink0';
    await addVethPair(
      { ns: host, name: uplink },
      { ns: world, name: 'eth0' },
      {
        addresses: [UPLINK_ADDRESSES.ipv4.host, UPLINK_ADDRESSES.ipv6.host],
        peerAddresses: [`${UPLINK_ADDRESSES.ipv4.gateway}/24`, `${UPLINK_ADDRESSES.ipv6.gateway}/64`],
      },
    );
    await addRoute(host, 'default', { via: UPLINK_ADDRESSES.ipv4.gateway, dev: uplink });
    await addRoute(host, 'default', { via: UPLINK_ADDRESSES.ipv6.gateway, dev: uplink });
  }

  const self: TestNetns = {
    host,
    get container(): TestNamespace {
      if (!container) throw new TestkitError('this test asked for no container namespace (container: false)');
      return container;
    },
    world,
    uplink,
    dir,
    execHost: (argv, runOptions) => exec(host, argv, runOptions),
    execContainer: (argv, runOptions) => exec(self.container, argv, runOptions),
    snapshot: (files = []) => takeSnapshot({ namespaces: container ? [host, container] : [host], files }),
    expectNoLeaks: async (snapshot, leakOptions = {}) => {
      const leaks = await findLeaks(snapshot, leakOptions);
      if (leaks.length > 0) throw new LeakError(leaks);
    },
    checkpoint: async ({ files, ...leakOptions } = {}) => {
      checkpoint = { snapshot: await self.snapshot(files), options: leakOptions };
    },
  };
  return self;
}

