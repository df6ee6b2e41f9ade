// SPDX-License-Identifier: Apache-2.0
// Each plugin's valid configurations, from which the fuzz cases are derived, and what each needs
// made beforehand (an uplink, a device to move, the container's eth0 for the meta plugins).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '@cni/testkit';
import type { FuzzPlace } from './harness.ts';

/** One plugin to fuzz. */
export interface PluginTarget {
  readonly type: string;
  /** Debian's reference has this plugin and answers as upstream for its keys (reference-features.md, section 4). */
  readonly reference: boolean;
  /** Every ADD must fail, cleanly, and why: the host kernel lacks the link kind, no DHCP daemon runs. */
  readonly alwaysRefused?: string;
  /** Makes what the valid configuration needs, in this process's namespace and the container's. */
  setup?(place: FuzzPlace, names: HostNames): Promise<void>;
  /** CNI variables every request of this target carries (before a case's own changes). */
  env?(place: FuzzPlace): Record<string, string>;
  /** Folders the plugin writes to besides the place's own and its network's lease folder. */
  readonly folders?: readonly string[];
  /** The valid configuration. */
  conf(place: FuzzPlace, names: HostNames): Record<string, unknown>;
  /** State the plugin keeps on purpose after DEL (its bridge, shared chains). */
  readonly stays?: readonly RegExp[];
  /** Undoes what the reference leaves after its DEL, so that its next ADD starts from the same state. */
  referenceCleanup?(place: FuzzPlace, names: HostNames): Promise<void>;
}

/** Names of links made in the host namespace for one target: short, and its own. */
export interface HostNames {
  /** An uplink (macvlan, ipvlan, vlan master). */
  readonly uplink: string;
  /** A link for host-device to move. */
  readonly device: string;
  /** The host end of the container's eth0 (meta plugins). */
  readonly hostVeth: string;
  /** A bridge name. */
  readonly bridge: string;
}

export function hostNames(id: string): HostNames {
  return { uplink: `fu${id}`, device: `fd${id}`, hostVeth: `fh${id}`, bridge: `fb${id}` };
}

const ip = (args: readonly string[]) => run(['ip', ...args]);

async function uplink(names: HostNames): Promise<void> {
  await ip(['link', 'add', names.uplink, 'type', 'veth', 'peer', 'name', `${names.uplink}p`]);
  await ip(['link', 'set', names.uplink, 'up']);
  await ip(['link', 'set', `${names.uplink}p`, 'up']);
}

/** The container's eth0, with 10.93.0.2/24, its peer on the host with 10.93.0.1/24: what a main plugin leaves for a meta one. */
async function containerEth0(place: FuzzPlace, names: HostNames): Promise<void> {
  await ip(['link', 'add', names.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', place.container.name]);
  await ip(['addr', 'add', '10.93.0.1/24', 'dev', names.hostVeth]);
  await ip(['link', 'set', names.hostVeth, 'up']);
  await ip(['-n', place.container.name, 'addr', 'add', '10.93.0.2/24', 'dev', 'eth0']);
  await ip(['-n', place.container.name, 'link', 'set', 'eth0', 'up']);
}

function hostLocalIpam(place: FuzzPlace, subnet: string): Record<string, unknown> {
  return { type: 'host-local', dataDir: place.dir, ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] };
}

function prevResult(place: FuzzPlace, names: HostNames): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    interfaces: [{ name: names.hostVeth }, { name: 'eth0', sandbox: place.container.path }],
    ips: [{ address: '10.93.0.2/24', gateway: '10.93.0.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0' }],
  };
}

const base = (place: FuzzPlace, type: string, rest: Record<string, unknown>) => ({ cniVersion: '1.0.0', name: place.network, type, ...rest });

/** Every plugin of the workspace, with its valid configuration. */
export const TARGETS: readonly PluginTarget[] = [
  {
    type: 'bridge',
    reference: true,
    conf: (place, names) =>
      // nftables, not iptables: nft's state is per namespace, iptables takes a lock every
      // namespace of the machine shares, and other tiers' iptables runs make each ADD wait.
      base(place, 'bridge', { bridge: names.bridge, isGateway: true, ipMasq: true, ipMasqBackend: 'nftables', hairpinMode: true, mtu: 1400, ipam: hostLocalIpam(place, '10.99.0.0/24') }),
    // Upstream keeps the bridge (any name a case gives it, `cni0` when the key is dropped) and the
    // gateway addresses it gave it, with their prefix routes, after DEL.
    stays: [/nftTables: inet cni_plugins_masquerade$/, / links: \S+ bridge$/, / addresses: (fb[0-9a-f]+|cni0|x) /, /routes: \S+ dev (fb[0-9a-f]+|cni0|x) /],
  },
  {
    type: 'ptp',
    reference: true,
    conf: (place) => base(place, 'ptp', { ipMasq: true, mtu: 1400, ipam: hostLocalIpam(place, '10.98.0.0/24') }),
  },
  {
    type: 'macvlan',
    reference: true,
    setup: (_place, names) => uplink(names),
    conf: (place, names) => base(place, 'macvlan', { master: names.uplink, mode: 'bridge', mtu: 1400, ipam: hostLocalIpam(place, '10.97.0.0/24') }),
  },
  {
    type: 'ipvlan',
    reference: true,
    alwaysRefused: 'the host kernel has no such link kind',
    setup: (_place, names) => uplink(names),
    conf: (place, names) => base(place, 'ipvlan', { master: names.uplink, mode: 'l2', ipam: hostLocalIpam(place, '10.96.0.0/24') }),
  },
  {
    type: 'vlan',
    reference: true,
    alwaysRefused: 'the host kernel has no such link kind',
    setup: (_place, names) => uplink(names),
    conf: (place, names) => base(place, 'vlan', { master: names.uplink, vlanId: 100, mtu: 1400, ipam: hostLocalIpam(place, '10.95.0.0/24') }),
  },
  {
    type: 'host-device',
    reference: true,
    setup: async (_place, names) => {
      await ip(['link', 'add', names.device, 'type', 'veth', 'peer', 'name', `${names.device}p`]);
    },
    conf: (place, names) => base(place, 'host-device', { device: names.device, ipam: { type: 'static', addresses: [{ address: '10.94.0.2/24' }] } }),
  },
  {
    type: 'dummy',
    reference: false,
    alwaysRefused: 'the host kernel has no such link kind',
    conf: (place) => base(place, 'dummy', { ipam: hostLocalIpam(place, '10.92.0.0/24') }),
  },
  {
    type: 'tap',
    reference: false,
    conf: (place) => base(place, 'tap', { mtu: 1400, multiQueue: false, owner: 0, group: 0, ipam: hostLocalIpam(place, '10.91.0.0/24') }),
  },
  { type: 'loopback', reference: true, conf: (place) => base(place, 'loopback', {}) },
  {
    type: 'bond',
    reference: false,
    alwaysRefused: 'the host kernel has no such link kind',
    conf: (place) =>
      base(place, 'bond', { mode: 'active-backup', miimon: '100', linksInContainer: true, links: [{ name: 'l1' }, { name: 'l2' }], ipam: hostLocalIpam(place, '10.90.0.0/24') }),
  },
  {
    type: 'tuning',
    reference: true,
    setup: containerEth0,
    conf: (place, names) =>
      base(place, 'tuning', {
        sysctl: { 'net.ipv4.conf.eth0.rp_filter': '1' },
        mtu: 1400,
        promisc: true,
        allmulti: true,
        mac: 'c2:11:22:33:44:55',
        dataDir: join(place.dir, 'tuning'),
        prevResult: prevResult(place, names),
      }),
  },
  {
    type: 'portmap',
    reference: true,
    setup: containerEth0,
    conf: (place, names) =>
      base(place, 'portmap', {
        // As for bridge: nftables, out of the machine-wide iptables lock (v1.1.1 ignores the key).
        backend: 'nftables',
        snat: true,
        capabilities: { portMappings: true },
        runtimeConfig: { portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }] },
        prevResult: prevResult(place, names),
      }),
    // The chains every container shares, and the rules that enter them, stay (as upstream's).
    stays: [/iptables(Chains|Rules): ip6?tables (nat|filter|mangle) .*CNI-HOSTPORT-/, /nftTables: ip6? cni_hostport$/, /nftTables: inet cni_hostport$/],
  },
  {
    type: 'bandwidth',
    reference: true,
    setup: containerEth0,
    conf: (place, names) =>
      base(place, 'bandwidth', { ingressRate: 1_000_000, ingressBurst: 100_000, egressRate: 1_000_000, egressBurst: 100_000, prevResult: prevResult(place, names) }),
    // v1.1.1's DEL removes its ifb but not the qdiscs on the host veth (the runtime deletes the
    // veth): without this its next ADD fails with "create qdisc: file exists".
    referenceCleanup: async (_place, names) => {
      await run(['tc', 'qdisc', 'del', 'dev', names.hostVeth, 'root'], { allowFailure: true });
      await run(['tc', 'qdisc', 'del', 'dev', names.hostVeth, 'ingress'], { allowFailure: true });
    },
  },
  {
    type: 'firewall',
    reference: true,
    setup: containerEth0,
    conf: (place, names) => base(place, 'firewall', { backend: 'iptables', prevResult: prevResult(place, names) }),
    // The chains every container shares, and CNI-FW-OWNERS (which networks use the chains, for GC).
    stays: [/iptables(Chains|Rules): ip6?tables filter .*CNI-(FORWARD|ADMIN|FW-OWNERS)/],
  },
  {
    type: 'sbr',
    reference: true,
    setup: containerEth0,
    conf: (place, names) => base(place, 'sbr', { prevResult: prevResult(place, names) }),
    // As upstream's, DEL removes the policy rules; the routes it moved into table 100+ go with eth0,
    // which the runtime deletes (here the test's eth0 lives on).
    stays: [/routes: \S+ (via \S+ )?dev eth0 table \d+$/],
  },
  {
    type: 'vrf',
    reference: true,
    alwaysRefused: 'the host kernel has no such link kind',
    setup: containerEth0,
    conf: (place, names) => base(place, 'vrf', { vrfname: 'fzvrf', table: 1001, prevResult: prevResult(place, names) }),
  },
  { type: 'host-local', reference: true, conf: (place) => base(place, 'host-local', { ipam: hostLocalIpam(place, '10.89.0.0/24') }) },
  {
    type: 'static',
    reference: true,
    conf: (place) =>
      base(place, 'static', {
        ipam: {
          type: 'static',
          addresses: [{ address: '10.88.0.2/24', gateway: '10.88.0.1' }, { address: '2001:db8:88::2/64' }],
          routes: [{ dst: '0.0.0.0/0', gw: '10.88.0.1' }],
          dns: { nameservers: ['10.88.0.1'], domain: 'example.com', search: ['example.com'], options: ['ndots:2'] },
        },
      }),
  },
  {
    type: 'dhcp',
    reference: false,
    alwaysRefused: 'nothing listens on the daemon socket',
    conf: (place) =>
      base(place, 'dhcp', {
        ipam: { type: 'dhcp', daemonSocketPath: join(place.dir, 'dhcp.sock'), request: [{ option: 'host-name', skipDefault: false }], provide: [{ option: 'host-name', value: 'x' }] },
      }),
  },
  {
    // No SR-IOV device here (the VM tier proves the real path on netdevsim): every ADD is refused,
    // and what is checked is how — a CNI error, nothing left in the namespaces or the dataDir.
    // A PCI address no machine of this kind has, so that no case can reach a real device.
    type: 'sriov',
    reference: false,
    alwaysRefused: 'the host has no SR-IOV device',
    conf: (place) =>
      base(place, 'sriov', {
        deviceID: '0000:ff:1f.7',
        vlan: 100,
        vlanQoS: 1,
        spoofchk: 'on',
        trust: 'off',
        link_state: 'enable',
        min_tx_rate: 0,
        max_tx_rate: 100,
        mac: '02:11:22:33:44:55',
        dataDir: join(place.dir, 'sriov'),
        ipam: { type: 'static', addresses: [{ address: '10.85.0.2/24' }] },
      }),
  },
  {
    // The pod's networks from a NAD folder and the annotations containerd passes (no API
    // server): the default network through ptp, the selected one through macvlan, both with
    // host-local, all delegated in-process as in the bundle.
    type: 'multinet',
    reference: false,
    setup: async (place, names) => {
      await uplink(names);
      const nads = join(place.dir, 'nads');
      mkdirSync(nads, { recursive: true });
      const extra = { cniVersion: '1.0.0', type: 'macvlan', master: names.uplink, mode: 'bridge', ipam: hostLocalIpam(place, '10.86.0.0/24') };
      writeFileSync(
        join(nads, 'extra.json'),
        JSON.stringify({
          apiVersion: 'k8s.cni.cncf.io/v1',
          kind: 'NetworkAttachmentDefinition',
          metadata: { name: 'extra', namespace: 'default' },
          spec: { config: JSON.stringify(extra) },
        }),
      );
    },
    env: () => ({ CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=fuzzpod' }),
    // host-local keeps a folder per network it served (named by the delegate's or NAD's network,
    // which cases change), and multinet its cache folders; what lands inside them still counts.
    // (in the tier's private /var/lib/cni when a case drops `cniDir`).
    stays: [/^file: (\/tmp\/cnifuzz-multinet-[0-9a-f]+\/([^/]+|multinet\/(attachments|results))|\/var\/lib\/cni\/multinet(\/(attachments|results))?)$/],
    folders: ['/var/lib/cni/multinet'],
    conf: (place) =>
      base(place, 'multinet', {
        delegates: [{ cniVersion: '1.0.0', name: `${place.network}-default`, plugins: [{ type: 'ptp', mtu: 1400, ipam: hostLocalIpam(place, '10.87.0.0/24') }] }],
        nadDir: join(place.dir, 'nads'),
        cniDir: join(place.dir, 'multinet'),
        confDir: join(place.dir, 'net.d'),
        binDir: place.cniPath,
        systemNamespaces: ['kube-system'],
        multinetNamespace: 'default',
        namespaceIsolation: true,
        globalNamespaces: ['default'],
        logLevel: 'error',
        runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': 'extra@net1' } },
      }),
  },
  {
    type: 'sample',
    reference: false,
    setup: containerEth0,
    conf: (place, names) => base(place, 'sample', { anotherAwesomeArg: 'x', prevResult: prevResult(place, names) }),
  },
];
