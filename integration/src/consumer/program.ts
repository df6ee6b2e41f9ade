// SPDX-License-Identifier: Apache-2.0
// The consumer's program and its TypeScript settings, written into the scratch project as a user
// would write them: only the packages' public entry points, no workspace paths.

/**
 * main.ts of the scratch project: parses a configuration list (libcni) and one of its plugins
 * (spec), checks an address against a subnet (ip), builds a result and converts it to 0.4.0
 * (spec), serves VERSION and a bad request with a plugin value in-process (skel), and creates,
 * reads and deletes a veth pair (netlink, run under `unshare --net`). Prints one JSON line.
 */
export const CONSUMER_MAIN = `// A user's program, compiled against the published packages.
import { ALL_SPEC_VERSIONS, CniError, convertResult, parseNetConf, type ResultV100 } from '@cni/spec';
import { parseCidr, parseIp } from '@cni/ip';
import { definePlugin, runPlugin, type PluginIo } from '@cni/skel';
import { confListFromBytes } from '@cni/libcni';
import { openNetlink } from '@cni/netlink';

const list = confListFromBytes(
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'consumer-net',
    plugins: [
      { type: 'bridge', bridge: 'cni0', isGateway: true, ipam: { type: 'host-local', subnet: '10.88.0.0/16' } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }),
);
// One plugin of the list as its plugin receives it: with the list's name and version.
const bridge = parseNetConf(JSON.stringify({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0]!.network }));

const subnet = parseCidr('10.88.0.0/16');
const result: ResultV100 = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'eth0', mac: '0a:58:0a:58:00:05', sandbox: '/var/run/netns/consumer' }],
  ips: [{ address: '10.88.0.5/16', gateway: '10.88.0.1', interface: 0 }],
};
const legacy = convertResult(result, '0.4.0');

const passthrough = definePlugin({
  name: 'consumer-passthrough',
  versions: ALL_SPEC_VERSIONS,
  add: async (request) => {
    if (!request.prevResult) throw new CniError(7, 'must be called as a chained plugin');
    return request.prevResult;
  },
  del: async () => {},
});

async function serve(env: Record<string, string>, stdin: string): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const io: PluginIo = { env, stdin, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } };
  const code = await runPlugin(passthrough, io);
  return { code, stdout: stdout.trim() };
}
const version = await serve({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
const badAdd = await serve({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' }, '{"cniVersion":"1.0.0","name":"n","type":"consumer-passthrough"}');

const nl = await openNetlink();
let link;
try {
  await nl.link.add({ kind: 'veth', name: 'consumer0', peer: { name: 'consumer1' } });
  link = await nl.link.get({ name: 'consumer0' });
  await nl.link.del({ name: 'consumer0' });
} finally {
  nl.close();
}

console.log(
  JSON.stringify({
    node: process.versions.node,
    list: { name: list.name, types: list.plugins.map((plugin) => plugin.network.type) },
    bridge: { type: bridge.type, ipamType: bridge.ipam?.type },
    inSubnet: subnet.contains(parseIp('10.88.0.5')),
    legacy,
    version: { code: version.code, answer: JSON.parse(version.stdout) },
    badAdd: { code: badAdd.code, error: JSON.parse(badAdd.stdout) },
    link: { name: link.name, kind: link.kind },
  }),
);
`;

/** tsconfig.json per moduleResolution: strict, and no skipLibCheck, so the shipped .d.ts are checked too. */
export function consumerTsconfig(resolution: 'node16' | 'bundler'): string {
  const module = resolution === 'node16' ? 'node16' : 'esnext';
  return JSON.stringify(
    {
      compilerOptions: {
        module,
        moduleResolution: resolution,
        target: 'es2022',
        lib: ['es2023'],
        types: ['node'],
        strict: true,
        skipLibCheck: false,
        outDir: `out-${resolution}`,
      },
      files: ['main.ts'],
    },
    null,
    2,
  );
}
