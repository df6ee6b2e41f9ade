// SPDX-License-Identifier: Apache-2.0
import type { NetConf } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseMultinetConf } from './conf.ts';

const parse = (extra: Record<string, unknown>) =>
  parseMultinetConf({ cniVersion: '1.0.0', name: 'multinet', type: 'multinet', ...extra } as unknown as NetConf);

describe('multinet configuration', () => {
  it('applies the defaults', () => {
    expect(parse({ clusterNetwork: 'pods' })).toMatchObject({
      clusterNetwork: 'pods',
      confDir: DEFAULTS.confDir,
      cniDir: DEFAULTS.cniDir,
      binDir: DEFAULTS.binDir,
      systemNamespaces: ['kube-system'],
      globalNamespaces: ['default'],
      multinetNamespace: 'kube-system',
      namespaceIsolation: false,
      defaultNetworks: [],
      delegates: [],
      runtimeConfig: {},
    });
  });

  it('reads Multus\'s comma-separated globalNamespaces and lists alike', () => {
    expect(parse({ clusterNetwork: 'p', globalNamespaces: 'default, shared' }).globalNamespaces).toEqual(['default', 'shared']);
    expect(parse({ clusterNetwork: 'p', globalNamespaces: ['a'] }).globalNamespaces).toEqual(['a']);
  });

  it('lifts inline delegates to lists, taking the configuration\'s version when they name none', () => {
    const conf = parse({ delegates: [{ name: 'pods', type: 'bridge' }, { cniVersion: '0.4.0', name: 'side', plugins: [{ type: 'macvlan' }] }] });
    expect(conf.delegates.map((list) => [list.name, list.cniVersion, list.plugins.map((p) => p.network.type)])).toEqual([
      ['pods', '1.0.0', ['bridge']],
      ['side', '0.4.0', ['macvlan']],
    ]);
  });

  it.each([
    [{}, 'one of "clusterNetwork" or "delegates" is required'],
    [{ clusterNetwork: 5 }, '"clusterNetwork" must be a string'],
    [{ clusterNetwork: 'p', namespaceIsolation: 'yes' }, '"namespaceIsolation" must be a boolean'],
    [{ clusterNetwork: 'p', defaultNetworks: [1] }, '"defaultNetworks" must be a list of strings'],
    [{ delegates: {} }, '"delegates" must be a list of configurations'],
    [{ delegates: [{ type: 'bridge' }] }, '"delegates[0]" is invalid'],
    [{ delegates: [{ cniVersion: 1, name: 'pods', type: 'bridge' }] }, '"delegates[0].cniVersion" must be a string, not 1'],
  ])('refuses %j', (extra, why) => {
    expect(() => parse(extra)).toThrow(why);
  });
});
