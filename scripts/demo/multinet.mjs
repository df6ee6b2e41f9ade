// SPDX-License-Identifier: Apache-2.0
// The multinet part of the demo, as a runtime without Kubernetes drives it (containerd's CRI does
// the same, see docs/containerd.md): NADs in a folder, one multinet configuration, and for each
// pod one ADD or DEL whose runtimeConfig carries the pod's annotations.
// Usage:
//   node multinet.mjs setup <state> <bin>                          NADs and the multinet conflist
//   node multinet.mjs add|del <state> <bin> <node> <ns/pod> [networks]   run multinet for a pod
//   node multinet.mjs status <state> <pod>                         the network-status it would carry
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [command, state, ...rest] = process.argv.slice(2);
const NETWORKS = 'k8s.v1.cni.cncf.io/networks';

/** A NAD manifest as the Multus docs print it: spec.config a multi-line quoted string, `}'` at the start of a line. */
function nadYaml(name, namespace, config) {
  const body = JSON.stringify(config, null, 2).split('\n').slice(1, -1).map((line) => `    ${line}`).join('\n');
  return `apiVersion: "k8s.cni.cncf.io/v1"\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\nspec:\n  config: '{\n${body}\n}'\n`;
}

function setup(bin) {
  const nads = join(state, 'nads');
  mkdirSync(nads, { recursive: true });
  const hostLocal = (subnet, extra = {}) => ({ type: 'host-local', dataDir: join(state, 'ipam'), ranges: [[{ subnet, ...extra }]] });
  writeFileSync(
    join(nads, 'web.yaml'),
    `${nadYaml('bridge-net', 'web', { cniVersion: '1.0.0', type: 'bridge', bridge: 'br-data', ipam: hostLocal('10.30.0.0/24') })}---\n${nadYaml('macvlan-net', 'web', {
      cniVersion: '1.0.0',
      type: 'macvlan',
      master: 'lan0',
      mode: 'bridge',
      ipam: hostLocal('192.168.78.0/24', { rangeStart: '192.168.78.10', rangeEnd: '192.168.78.50' }),
    })}`,
  );
  writeFileSync(join(nads, 'storage.yaml'), nadYaml('backup', 'storage', { cniVersion: '0.4.0', type: 'bridge', bridge: 'br-backup', ipam: hostLocal('10.50.0.0/24') }));
  // An SR-IOV network on a node without the sriov plugin: pods selecting it fail, cleanly.
  writeFileSync(join(nads, 'sriov.yaml'), nadYaml('sriov-net', 'web', { cniVersion: '1.0.0', type: 'sriov', ipam: hostLocal('10.60.0.0/24') }));
  const conflist = {
    cniVersion: '1.0.0',
    name: 'multinet',
    plugins: [
      {
        type: 'multinet',
        capabilities: { 'io.kubernetes.cri.pod-annotations': true },
        nadDir: nads,
        cniDir: join(state, 'multinet'),
        confDir: join(state, 'multinet-net.d'),
        binDir: bin,
        delegates: [
          {
            cniVersion: '1.0.0',
            name: 'podnet',
            plugins: [{ type: 'bridge', bridge: 'cnidemo1', isGateway: true, isDefaultGateway: true, ipam: hostLocal('10.89.0.0/24') }],
          },
        ],
      },
    ],
  };
  mkdirSync(join(state, 'net.d'), { recursive: true });
  writeFileSync(join(state, 'net.d', '00-multinet.conflist'), `${JSON.stringify(conflist, null, 2)}\n`);
  console.log(`NADs in ${nads}: web/bridge-net (bridge), web/macvlan-net (macvlan on lan0), storage/backup (bridge), web/sriov-net (type sriov, not installed)`);
}

/** One multinet call as a runtime makes it: the conflist's plugin, runtimeConfig with the pod's annotations, K8S_POD_* in CNI_ARGS. */
function run(verb, bin, node, pod, networks) {
  const [namespace, name] = pod.split('/');
  const list = JSON.parse(readFileSync(join(state, 'net.d', '00-multinet.conflist'), 'utf8'));
  const annotations = networks ? { [NETWORKS]: networks } : {};
  const conf = { cniVersion: list.cniVersion, name: list.name, ...list.plugins[0], runtimeConfig: { 'io.kubernetes.cri.pod-annotations': annotations } };
  delete conf.capabilities;
  const result = spawnSync('ip', ['netns', 'exec', node, join(bin, 'multinet')], {
    input: JSON.stringify(conf),
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: verb.toUpperCase(),
      CNI_CONTAINERID: `${namespace}-${name}`,
      CNI_NETNS: `/var/run/netns/cnidemo-${name}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: bin,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name};K8S_POD_INFRA_CONTAINER_ID=${namespace}-${name}`,
    },
  });
  if (result.status !== 0) {
    let message = result.stdout || result.stderr;
    try {
      const error = JSON.parse(result.stdout);
      message = `CNI error ${error.code}: ${error.msg}`;
    } catch {
      // Not JSON: print as is.
    }
    console.log(message.trim());
    process.exit(1);
  }
}

/** The network-status annotation multinet would publish through the API, from its own caches and function. */
async function status(pod) {
  const { networkStatus } = await import(new URL('../../packages/multinet/dist/index.js', import.meta.url).href);
  const [namespace, name] = pod.split('/');
  const id = `${namespace}-${name}`;
  // multinet's record: {kind, checksum, record: <the record's JSON>}.
  const record = JSON.parse(JSON.parse(readFileSync(join(state, 'multinet', 'attachments', id), 'utf8')).record);
  const statuses = record.attachments.map((attachment) => {
    const listName = JSON.parse(attachment.config).name;
    const file = join(state, 'multinet', 'results', `${listName}-${id}-${attachment.ifName}`);
    const result = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).result : undefined;
    return networkStatus({ name: attachment.network, isDefault: attachment.isDefault, result });
  });
  console.log(`k8s.v1.cni.cncf.io/network-status of ${pod}:`);
  // One entry a line: the annotation's value as kubectl shows it, only easier to read.
  console.log(`  [\n${statuses.map((entry) => `    ${JSON.stringify(entry)}`).join(',\n')}\n  ]`);
}

switch (command) {
  case 'setup':
    setup(rest[0]);
    break;
  case 'add':
  case 'del':
    run(command, rest[0], rest[1], rest[2], rest[3]);
    break;
  case 'status':
    await status(rest[0]);
    break;
  case 'left': {
    // What multinet still records: attachments and result-cache entries.
    const count = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith('.')).length : 0);
    console.log(`${count(join(state, 'multinet', 'attachments'))} ${count(join(state, 'multinet', 'results'))}`);
    break;
  }
  default:
    console.error('usage: multinet.mjs setup|add|del|status|left ...');
    process.exit(2);
}
