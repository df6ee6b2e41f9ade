// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadNadDirectory, parseNadManifests } from './manifests.ts';
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

const nad = (config: string | undefined, extra: Partial<NetworkAttachmentDefinition['metadata']> = {}): NetworkAttachmentDefinition => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name: 'net-a', namespace: 'ns1', ...extra },
  ...(config === undefined ? {} : { spec: { config } }),
});

describe('manifests', () => {
  it('reads the users\' ipvlan example as written', () => {
    const [found] = parseNadManifests(ipvlanExample);
    expect(found?.metadata.name).toBe('ipvlan0');
    const list = resolveNadConfig(found!, { confDir: '/nonexistent', cniVersion: '1.0.0' });
    expect(list.name).toBe('ipvlan0');
    expect(list.cniVersion).toBe('0.3.1');
    expect(list.plugins[0]?.network.type).toBe('ipvlan');
    expect(list.plugins[0]?.network.ipam).toEqual({ type: 'static', addresses: [{ address: '10.10.10.2/24', gateway: '10.10.10.1' }] });
  });

  it('reads several documents, lists and JSON, skipping other kinds', () => {
    const text = `${ipvlanExample}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\nkind: List\nitems:\n  - kind: NetworkAttachmentDefinition\n    metadata: {name: b, namespace: x}\n`;
    expect(parseNadManifests(text).map((n) => n.metadata.name)).toEqual(['ipvlan0', 'b']);
    expect(parseNadManifests(JSON.stringify([{ metadata: { name: 'j' } }])).map((n) => n.metadata.name)).toEqual(['j']);
  });

  it('names the file and the problem of a bad manifest', () => {
    expect(() => parseNadManifests('kind: NetworkAttachmentDefinition\nmetadata: {}\n', 'a.yaml')).toThrow(
      'invalid NetworkAttachmentDefinition in a.yaml: metadata.name is missing',
    );
    expect(() => parseNadManifests('metadata: {name: a}\nspec: {config: 5}\n', 'b.yaml')).toThrow('spec.config must be a string');
    expect(() => parseNadManifests('a: [', 'c.yaml')).toThrow('cannot parse c.yaml');
  });

  it('loads a folder, namespace defaulted, later files winning', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '10-a.yaml'), ipvlanExample);
    writeFileSync(join(dir, '20-b.json'), JSON.stringify({ kind: 'NetworkAttachmentDefinition', metadata: { name: 'ipvlan0' }, spec: { config: '{"type":"x"}' } }));
    writeFileSync(join(dir, 'README.md'), 'not a manifest');
    const nads = loadNadDirectory(dir);
    expect([...nads.keys()]).toEqual(['default/ipvlan0']);
    expect(nads.get('default/ipvlan0')?.spec?.config).toBe('{"type":"x"}');
    expect(loadNadDirectory(join(dir, 'missing')).size).toBe(0);
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
