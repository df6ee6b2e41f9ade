// SPDX-License-Identifier: Apache-2.0
// Writes the demo's two network configurations into NETCONFPATH. The chains take whichever of the
// optional plugins the bundle has, so the demo grows as plugins land.
// Usage: node netconf.mjs <netconfDir> <stateDir> <pluginDir>
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [netconf, state, plugins] = process.argv.slice(2);
if (!netconf || !state || !plugins) {
  console.error('usage: netconf.mjs <netconfDir> <stateDir> <pluginDir>');
  process.exit(2);
}
const has = (type) => existsSync(join(plugins, type));
for (const type of ['bridge', 'host-local', 'macvlan']) {
  if (!has(type)) {
    console.error(`plugin "${type}" not found in "${plugins}"; build apps/cni-bundle first`);
    process.exit(1);
  }
}

// Every plugin that keeps state on disk keeps it in the demo's folder, never in /var/lib/cni or /run/cni.
const podnet = [
  {
    type: 'bridge',
    bridge: 'cnidemo0',
    isGateway: true,
    ipMasq: true,
    ipam: {
      type: 'host-local',
      dataDir: join(state, 'ipam'),
      ranges: [[{ subnet: '10.88.0.0/24' }]],
      routes: [{ dst: '0.0.0.0/0' }],
    },
  },
];
if (has('tuning')) {
  podnet.push({ type: 'tuning', dataDir: join(state, 'tuning'), sysctl: { 'net.ipv4.conf.IFNAME.arp_ignore': '1' } });
}
if (has('portmap')) podnet.push({ type: 'portmap', capabilities: { portMappings: true } });
if (has('bandwidth')) podnet.push({ type: 'bandwidth', capabilities: { bandwidth: true } });

const lan = [
  {
    type: 'macvlan',
    master: 'lan0',
    mode: 'bridge',
    ipam: {
      type: 'host-local',
      dataDir: join(state, 'ipam'),
      ranges: [[{ subnet: '192.168.77.0/24', rangeStart: '192.168.77.10', rangeEnd: '192.168.77.50' }]],
    },
  },
];

mkdirSync(netconf, { recursive: true });
const write = (file, name, list) =>
  writeFileSync(join(netconf, file), `${JSON.stringify({ cniVersion: '1.1.0', name, plugins: list }, null, 2)}\n`);
write('10-podnet.conflist', 'podnet', podnet);
write('20-lan.conflist', 'lan', lan);
console.log(`podnet: ${podnet.map((p) => p.type).join(' + ')}; lan: macvlan + host-local`);
