// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadNadDirectory, nadDirectorySource, parseNadManifests } from './manifests.ts';
import { loadNetworkByPathOrName, NAD_ANNOTATIONS_KEY, resolveNadConfig, type NetworkAttachmentDefinition } from './nad.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'multinet-nad-'));
  dirs.push(dir);
  return dir;
}

const ipvlanExample = `apiVersion: "k8s.cni.cncf.io/v1"
kind: NetworkAttachmentDefinition
metadata:
  name: ipvlan0
spec:
  config: '{ "cniVersion": "0.3.1", "name": "ipvlan0", "type": "ipvlan", "master": "eth1000", "mode": "l2",
             "ipam": { "type": "static", "addresses": [ { "address": "10.10.10.2/24", "gateway": "10.10.10.1" } ] } }'
`;

// As the Multus quick-start and vendor docs print a NAD: the closing }' at the start of its line.
const multusExample = `apiVersion: "k8s.cni.cncf.io/v1"
kind: NetworkAttachmentDefinition
metadata:
  name: macvlan-conf
spec:
  config: '{
      "cniVersion": "0.3.0",
      "type": "macvlan",
      "master": "eth0",
      "mode": "bridge",
      "ipam": {
        "type": "host-local",
        "subnet": "192.168.1.0/24"
      }
}'
`;

const nad = (config: string | undefined, extra: Partial<NetworkAttachmentDefinition['metadata']> = {}): NetworkAttachmentDefinition => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name: 'net-a', namespace: 'ns1', ...extra },
  ...(config === undefined ? {} : { spec: { config } }),
});

describe('manifests', () => {
  it('reads the users\' ipvlan example as written', async () => {
    const [found] = await parseNadManifests(ipvlanExample);
    expect(found?.metadata.name).toBe('ipvlan0');
    const list = resolveNadConfig(found!, { confDir: '/nonexistent', cniVersion: '1.0.0' });
    expect(list.name).toBe('ipvlan0');
    expect(list.cniVersion).toBe('0.3.1');
    expect(list.plugins[0]?.network.type).toBe('ipvlan');
    expect(list.plugins[0]?.network.ipam).toEqual({ type: 'static', addresses: [{ address: '10.10.10.2/24', gateway: '10.10.10.1' }] });
  });

  it('reads several documents, lists and JSON, skipping other kinds', async () => {
    const text = `${ipvlanExample}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\nkind: List\nitems:\n  - kind: NetworkAttachmentDefinition\n    metadata: {name: b, namespace: x}\n`;
    expect((await parseNadManifests(text)).map((n) => n.metadata.name)).toEqual(['ipvlan0', 'b']);
    expect((await parseNadManifests(JSON.stringify([{ metadata: { name: 'j' } }]))).map((n) => n.metadata.name)).toEqual(['j']);
  });

  it('reads spec.config as the Multus docs print it: a multi-line quoted string closed at the start of a line', async () => {
    const [found] = await parseNadManifests(multusExample, 'macvlan.yaml');
    expect(found?.metadata.name).toBe('macvlan-conf');
    const list = resolveNadConfig(found!, { confDir: '/nonexistent', cniVersion: '1.0.0' });
    expect(list.plugins[0]?.network).toMatchObject({ type: 'macvlan', master: 'eth0', mode: 'bridge', ipam: { type: 'host-local', subnet: '192.168.1.0/24' } });
  });

  it('names the file, the line and the problem of a bad manifest', async () => {
    await expect(parseNadManifests('kind: NetworkAttachmentDefinition\nmetadata: {}\n', 'a.yaml')).rejects.toThrow(
      'invalid NetworkAttachmentDefinition in a.yaml: metadata.name is missing',
    );
    await expect(parseNadManifests('metadata: {name: a}\nspec: {config: 5}\n', 'b.yaml')).rejects.toThrow('spec.config must be a string');
    await expect(parseNadManifests('kind: NetworkAttachmentDefinition\nmetadata:\n  name: a\nspec:\n  config: [\n', 'c.yaml')).rejects.toThrow(/^cannot parse c\.yaml:\d+: /);
    await expect(parseNadManifests('{"metadata": {"name": "x"}', 'd.json')).rejects.toThrow(/^cannot parse d\.json:1: /);
  });

  it('loads a folder, namespace defaulted, later files winning', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '10-a.yaml'), ipvlanExample);
    writeFileSync(join(dir, '20-b.json'), JSON.stringify({ kind: 'NetworkAttachmentDefinition', metadata: { name: 'ipvlan0' }, spec: { config: '{"type":"x"}' } }));
    writeFileSync(join(dir, 'README.md'), 'not a manifest');
    const { nads, broken } = await loadNadDirectory(dir);
    expect([...nads.keys()]).toEqual(['default/ipvlan0']);
    expect(nads.get('default/ipvlan0')?.spec?.config).toBe('{"type":"x"}');
    expect(broken).toEqual([]);
    expect((await loadNadDirectory(join(dir, 'missing'))).nads.size).toBe(0);
  });

  it('a broken file costs only its own NADs, and selecting one names the file and line', async () => {
    const dir = tempDir();
    // A CRD and a Pod beside the NADs, as a folder of kubectl manifests may hold them.
    writeFileSync(join(dir, '00-crd.yaml'), readFileSync(new URL('../manifests/network-attachment-definition-crd.yaml', import.meta.url), 'utf8'));
    writeFileSync(join(dir, '10-good.yaml'), `${multusExample}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n`);
    // Second document broken (a tab where YAML wants spaces, then an unclosed flow map); the first still counts.
    writeFileSync(
      join(dir, '20-mixed.yaml'),
      'apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: fine\n  namespace: other\nspec:\n  config: \'{"cniVersion": "1.0.0", "type": "dummy"}\'\n---\napiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata:\n  name: broken\n  namespace: other\nspec:\n  config: {"type": "dummy"\n',
    );
    writeFileSync(join(dir, '30-nameless.yaml'), ': : :\n\t- [\n');
    const { nads, broken } = await loadNadDirectory(dir);
    expect([...nads.keys()].sort()).toEqual(['default/macvlan-conf', 'other/fine']);
    expect(broken.map((entry) => [entry.file, entry.names])).toEqual([
      [join(dir, '20-mixed.yaml'), [{ namespace: 'other', name: 'broken' }]],
      [join(dir, '30-nameless.yaml'), []],
    ]);
    expect(broken[0]?.line).toBeGreaterThanOrEqual(9);

    const source = nadDirectorySource(dir);
    expect((await source.getNad('default', 'macvlan-conf'))?.metadata.name).toBe('macvlan-conf');
    expect((await source.getNad('other', 'fine'))?.metadata.name).toBe('fine');
    await expect(source.getNad('other', 'broken')).rejects.toThrow(
      new RegExp(`NetworkAttachmentDefinition "other/broken" cannot be read: ${join(dir, '20-mixed.yaml')}:\\d+: `),
    );
    // A NAD that is nowhere: the files that could not be read are named, in case it was in one of them.
    await expect(source.getNad('default', 'absent')).rejects.toThrow(`${join(dir, '30-nameless.yaml')}:`);
  });

  it('the last file naming a NAD wins, readable or not', async () => {
    const dir = tempDir();
    const good = (name: string) => `kind: NetworkAttachmentDefinition\nmetadata:\n  name: ${name}\nspec:\n  config: '{"cniVersion": "1.0.0", "type": "dummy"}'\n`;
    const bad = (name: string) => `kind: NetworkAttachmentDefinition\nmetadata:\n  name: ${name}\nspec:\n  config: {"type": "dummy"\n`;
    writeFileSync(join(dir, '10.yaml'), `${good('fixed')}---\n${bad('regressed')}`);
    writeFileSync(join(dir, '20.yaml'), bad('fixed'));
    writeFileSync(join(dir, '05.yaml'), good('regressed'));
    writeFileSync(join(dir, '30.yaml'), good('fixed'));
    const source = nadDirectorySource(dir);
    expect((await source.getNad('default', 'fixed'))?.metadata.name).toBe('fixed');
    await expect(source.getNad('default', 'regressed')).rejects.toThrow(`NetworkAttachmentDefinition "default/regressed" cannot be read: ${join(dir, '10.yaml')}:`);
  });

  it('ships the CRD manifest the spec defines', () => {
    const text = readFileSync(new URL('../manifests/network-attachment-definition-crd.yaml', import.meta.url), 'utf8');
    const crd = parseAllDocuments(text);
    const value = (Array.isArray(crd) ? crd[0] : crd)!.toJS();
    expect(value.metadata.name).toBe('network-attachment-definitions.k8s.cni.cncf.io');
    expect(value.spec.scope).toBe('Namespaced');
    expect(value.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.config.type).toBe('string');
  });
});

describe('config resolution (§3.4)', () => {
  const options = { confDir: '/nonexistent', cniVersion: '1.0.0' };

  it('injects the NAD name into a config without one', () => {
    const list = resolveNadConfig(nad('{"cniVersion":"0.4.0","type":"bridge"}'), options);
    expect(list.name).toBe('net-a');
    expect(JSON.parse(Buffer.from(list.bytes).toString()).name).toBe('net-a');
  });

  it('keeps a different CNI name (recommended, not required, to match)', () => {
    expect(resolveNadConfig(nad('{"cniVersion":"0.4.0","name":"other","type":"bridge"}'), options).name).toBe('other');
  });

  it('takes a configuration list, name injected', () => {
    const list = resolveNadConfig(nad('{"cniVersion":"1.0.0","plugins":[{"type":"bridge"},{"type":"tuning"}]}'), options);
    expect(list.name).toBe('net-a');
    expect(list.plugins.map((p) => p.network.type)).toEqual(['bridge', 'tuning']);
  });

  it('falls back to the on-disk list, then the on-disk config, by NAD name', () => {
    const confDir = tempDir();
    writeFileSync(join(confDir, '10-a.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'net-a', type: 'macvlan' }));
    expect(resolveNadConfig(nad(undefined), { ...options, confDir }).plugins[0]?.network.type).toBe('macvlan');
    writeFileSync(join(confDir, '20-a.conflist'), JSON.stringify({ cniVersion: '0.4.0', name: 'net-a', plugins: [{ type: 'bridge' }] }));
    expect(resolveNadConfig(nad(''), { ...options, confDir }).plugins[0]?.network.type).toBe('bridge');
  });

  it('fails a NAD with neither spec.config nor an on-disk config', () => {
    const confDir = tempDir();
    expect(() => resolveNadConfig(nad(undefined), { ...options, confDir })).toThrow(
      `network "ns1/net-a" has no spec.config and no configuration named "net-a" in "${confDir}"`,
    );
  });

  it('refuses a config that is not JSON or has no type', () => {
    expect(() => resolveNadConfig(nad('{oops'), options)).toThrow('network "ns1/net-a": spec.config is not JSON');
    expect(() => resolveNadConfig(nad('{"cniVersion":"1.0.0"}'), options)).toThrow('network "ns1/net-a": invalid spec.config');
  });

  it('passes the vendor form on with its version and annotations', () => {
    const annotations = {
      'opencontrail.org/cidr': '10.20.0.0/16',
      'opencontrail.org/ip_fabric_forwarding': 'false',
      'opencontrail.org/ip_fabric_snat': 'true',
      'opencontrail.org/network': '{"domain":"default-domain","project":"k8s-default","name":"vn1"}',
    };
    const list = resolveNadConfig(nad('{ "type": "contrail-k8s-cni" }', { annotations }), options);
    expect(list.cniVersion).toBe('1.0.0');
    const plugin = JSON.parse(Buffer.from(list.plugins[0]!.bytes).toString());
    expect(plugin).toEqual({ type: 'contrail-k8s-cni', name: 'net-a', cniVersion: '1.0.0', [NAD_ANNOTATIONS_KEY]: annotations });
  });
});

describe('networks by path or name', () => {
  it('loads a file, a folder and a name', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'net.d'));
    writeFileSync(join(dir, 'net.d', '10-pods.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'pods', plugins: [{ type: 'bridge' }] }));
    writeFileSync(join(dir, 'net.d', '05-x.conf'), JSON.stringify({ cniVersion: '1.0.0', name: 'x', type: 'ptp' }));
    expect(loadNetworkByPathOrName(join(dir, 'net.d', '05-x.conf'), '/none').name).toBe('x');
    expect(loadNetworkByPathOrName(join(dir, 'net.d'), '/none').name).toBe('pods');
    expect(loadNetworkByPathOrName('x', join(dir, 'net.d')).plugins[0]?.network.type).toBe('ptp');
    expect(() => loadNetworkByPathOrName('y', join(dir, 'net.d'))).toThrow('network "y"');
  });
});
