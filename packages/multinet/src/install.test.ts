// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildMultinetConfList, findPrimaryConfig, installMultinetConfig, runInstaller, serviceAccountKubeconfig } from './install.ts';
import { kubeconfigOptions } from './kube.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'multinet-install-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const primary = {
  cniVersion: '1.0.0',
  name: 'k8s-pod-network',
  plugins: [{ type: 'bridge', ipam: { type: 'host-local' } }, { type: 'portmap', capabilities: { portMappings: true } }, { type: 'bandwidth', capabilities: { bandwidth: true, dns: false } }],
};

describe('install', () => {
  it('wraps the primary network with its capabilities', () => {
    writeFileSync(join(dir, '10-pods.conflist'), JSON.stringify(primary));
    expect(findPrimaryConfig(dir)).toBe('10-pods.conflist');
    expect(buildMultinetConfList({ confDir: dir, primaryFile: '10-pods.conflist', kubeconfig: '/etc/cni/net.d/multinet.d/multinet.kubeconfig', pluginKeys: { cniDir: '/var/lib/cni/multinet' } })).toEqual({
      cniVersion: '1.0.0',
      name: 'multinet-cni-network',
      plugins: [{
        type: 'multinet',
        capabilities: { portMappings: true, bandwidth: true },
        clusterNetwork: '/etc/cni/net.d/10-pods.conflist',
        kubeconfig: '/etc/cni/net.d/multinet.d/multinet.kubeconfig',
        cniDir: '/var/lib/cni/multinet',
      }],
    });
  });

  it('waits for the primary network, then writes 00-multinet.conflist', async () => {
    const pending = installMultinetConfig({ confDir: dir, waitMs: 5000 });
    await new Promise((done) => setTimeout(done, 300));
    writeFileSync(join(dir, '10-pods.conflist'), JSON.stringify(primary));
    const file = await pending;
    expect(file).toBe(join(dir, '00-multinet.conflist'));
    expect(JSON.parse(readFileSync(file, 'utf8')).plugins[0].clusterNetwork).toBe('/etc/cni/net.d/10-pods.conflist');
    // Its own file is never taken for the primary.
    expect(findPrimaryConfig(dir)).toBe('10-pods.conflist');
  });

  it('gives up when no primary network appears', async () => {
    await expect(installMultinetConfig({ confDir: dir, waitMs: 300 })).rejects.toThrow(`no primary network configuration appeared in "${dir}"`);
  });

  it('writes a kubeconfig that the client reads', () => {
    writeFileSync(join(dir, 'kc'), serviceAccountKubeconfig({ server: 'https://10.96.0.1:443', ca: 'PEM', tokenFile: '/var/run/token' }));
    expect(kubeconfigOptions(join(dir, 'kc'))).toEqual({ server: 'https://10.96.0.1:443', ca: 'PEM', tokenFile: '/var/run/token' });
  });

  it('installs the bundle, a kubeconfig with the copied token and the conflist', async () => {
    for (const sub of ['bundle', 'bin', 'net.d', 'sa']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'bundle', 'multinet'), '#!/bin/sh\n');
    writeFileSync(join(dir, 'sa', 'token'), 'tok');
    writeFileSync(join(dir, 'sa', 'ca.crt'), 'PEM');
    writeFileSync(join(dir, 'net.d', '10-pods.conflist'), JSON.stringify(primary));
    await runInstaller({
      MULTINET_BUNDLE_DIR: join(dir, 'bundle'),
      MULTINET_HOST_BIN_DIR: join(dir, 'bin'),
      MULTINET_HOST_CONF_DIR: join(dir, 'net.d'),
      MULTINET_SERVICE_ACCOUNT_DIR: join(dir, 'sa'),
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    });
    expect(statSync(join(dir, 'bin', 'multinet')).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(dir, 'net.d', 'multinet.d', 'token'), 'utf8')).toBe('tok');
    const conf = JSON.parse(readFileSync(join(dir, 'net.d', '00-multinet.conflist'), 'utf8'));
    expect(conf.plugins[0].kubeconfig).toBe('/etc/cni/net.d/multinet.d/multinet.kubeconfig');
    expect(kubeconfigOptions(join(dir, 'net.d', 'multinet.d', 'multinet.kubeconfig'))).toEqual({
      server: 'https://10.96.0.1:443',
      ca: 'PEM',
      tokenFile: '/etc/cni/net.d/multinet.d/token',
    });
  });

  it('ships install manifests that parse, with the RBAC the plugin needs', () => {
    const text = readFileSync(new URL('../manifests/multinet-daemonset.yaml', import.meta.url), 'utf8');
    const docs = parseAllDocuments(text);
    const objects = (Array.isArray(docs) ? docs : [docs]).map((doc) => doc.toJS() as { kind: string; rules?: { resources: string[]; verbs: string[] }[] });
    expect(objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'DaemonSet']);
    const rules = objects[1]?.rules ?? [];
    const allowed = (resource: string, verb: string) => rules.some((r) => r.resources.includes(resource) && r.verbs.includes(verb));
    expect(allowed('pods', 'get')).toBe(true);
    expect(allowed('pods/status', 'patch')).toBe(true);
    expect(allowed('network-attachment-definitions', 'get')).toBe(true);
    expect(allowed('network-attachment-definitions', 'list')).toBe(true);
  });
});

describe('docs/multinet.md', () => {
  it('carries the package\'s install manifests as they are', () => {
    const docs = readFileSync(new URL('../../../docs/multinet.md', import.meta.url), 'utf8');
    for (const file of ['network-attachment-definition-crd.yaml', 'multinet-daemonset.yaml']) {
      const manifest = readFileSync(new URL(`../manifests/${file}`, import.meta.url), 'utf8');
      expect(docs).toContain(`### \`manifests/${file}\`\n\n\`\`\`yaml\n${manifest}\`\`\``);
    }
  });
});
