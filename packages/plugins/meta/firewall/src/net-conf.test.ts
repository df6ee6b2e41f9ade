// SPDX-License-Identifier: Apache-2.0
import type { NetConf, Result } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { systemBusMayExist } from './firewalld-backend.ts';
import { isolationRules } from './ingress-policy.ts';
import { addressRules, ownerComment, parseOwnerComment } from './iptables-backend.ts';
import { loadConf, resultAddresses } from './net-conf.ts';

const base = { cniVersion: '1.0.0', name: 'fwnet', type: 'firewall' } as NetConf;
const conf = (extra: Record<string, unknown>) => ({ ...base, ...extra }) as NetConf;

describe('loadConf', () => {
  it('applies upstream defaults ("" included)', () => {
    expect(loadConf(base)).toMatchObject({ backend: undefined, iptablesAdminChainName: 'CNI-ADMIN', firewalldZone: 'trusted', ingressPolicy: 'open' });
    expect(loadConf(conf({ backend: '', iptablesAdminChainName: '', firewalldZone: '', ingressPolicy: '' }))).toMatchObject({
      backend: undefined,
      iptablesAdminChainName: 'CNI-ADMIN',
      firewalldZone: 'trusted',
      ingressPolicy: 'open',
    });
  });

  it.each([
    [{ backend: 'nftables' }, 'invalid backend "nftables", must be "iptables" or "firewalld"'],
    [{ iptablesAdminChainName: 'MY ADMIN' }, 'invalid iptablesAdminChainName "MY ADMIN"'],
    [{ iptablesAdminChainName: 'X'.repeat(29) }, 'invalid iptablesAdminChainName'],
    [{ firewalldZone: 'a zone' }, 'invalid firewalldZone "a zone"'],
    [{ ingressPolicy: 'closed' }, 'invalid ingressPolicy "closed"'],
    // Wrong types, named by key path.
    [{ backend: 1 }, 'invalid backend 1, must be a string'],
    [{ iptablesAdminChainName: ['CNI-ADMIN'] }, 'invalid iptablesAdminChainName ["CNI-ADMIN"], must be a string'],
    [{ firewalldZone: true }, 'invalid firewalldZone true, must be a string'],
    [{ ingressPolicy: {} }, 'invalid ingressPolicy {}, must be a string'],
  ])('refuses %j with code 7 naming key and value', (extra, message) => {
    expect(() => loadConf(conf(extra))).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(message) }));
  });

  it('reports every bad key at once', () => {
    expect(() => loadConf(conf({ backend: 1, ingressPolicy: 'closed' }))).toThrow(
      expect.objectContaining({ code: 7, message: 'invalid backend 1, must be a string (and 1 more problem)' }),
    );
  });
});

describe('rules', () => {
  it('names every prevResult address as a host prefix', () => {
    const result = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }, { address: 'fd00::2/64' }] } as Result;
    expect(resultAddresses(result as never)).toEqual([
      { host: '10.0.0.2/32', family: 4 },
      { host: 'fd00::2/128', family: 6 },
    ]);
  });

  it('writes upstream\'s two rules per address', () => {
    expect(addressRules('10.0.0.2/32')).toEqual([
      ['-d', '10.0.0.2/32', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
      ['-s', '10.0.0.2/32', '-j', 'ACCEPT'],
    ]);
  });

  it('reads owner comments back', () => {
    expect(parseOwnerComment(ownerComment('fwnet', 'ctr1', 'eth0'))).toEqual({ network: 'fwnet', containerId: 'ctr1', ifName: 'eth0' });
    expect(parseOwnerComment('CNI firewall plugin rules')).toBeUndefined();
  });

  it('isolates with upstream\'s stage chains; isolated adds the same-bridge DROP', () => {
    const sameBridge = isolationRules('cni0', 'same-bridge');
    const isolated = isolationRules('cni0', 'isolated');
    expect(sameBridge.map(([chain]) => chain)).toEqual(['FORWARD', 'CNI-ISOLATION-STAGE-1', 'CNI-ISOLATION-STAGE-1', 'CNI-ISOLATION-STAGE-2', 'CNI-ISOLATION-STAGE-2']);
    expect(isolated.find(([, rule]) => rule.includes('DROP') && rule.includes('-i'))?.[1]).toEqual([
      '-i', 'cni0', '-o', 'cni0', '-j', 'DROP', '-m', 'comment', '--comment', 'CNI firewall plugin rules (ingressPolicy: isolated)',
    ]);
  });
});

describe('systemBusMayExist', () => {
  it('is false only when every address is a unix path that does not exist', () => {
    expect(systemBusMayExist('unix:path=/nonexistent/bus')).toBe(false);
    expect(systemBusMayExist('unix:path=/nonexistent/a;unix:guid=1,path=/nonexistent/b')).toBe(false);
    expect(systemBusMayExist('unix:path=/nonexistent/a;unix:path=/')).toBe(true);
    expect(systemBusMayExist('unix:abstract=/tmp/dbus-x')).toBe(true);
    expect(systemBusMayExist('tcp:host=localhost,port=1')).toBe(true);
  });
});
