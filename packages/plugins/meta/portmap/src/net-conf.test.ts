// SPDX-License-Identifier: Apache-2.0
import type { NetConf, Result } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { dnatChainName, dnatComment, dnatRules, parseDnatComment } from './iptables-mapper.ts';
import { containerAddresses, loadConf, loadRequestConf } from './net-conf.ts';
import { nftAddScript } from './nftables-mapper.ts';

const base = { cniVersion: '1.0.0', name: 'pmnet', type: 'portmap' } as NetConf;
const mapping = { hostPort: 8080, containerPort: 80, protocol: 'tcp' };
const conf = (extra: Record<string, unknown>) => ({ ...base, ...extra }) as NetConf;

describe('loadConf', () => {
  it('applies upstream defaults', () => {
    expect(loadConf(base)).toMatchObject({ backend: undefined, snat: true, masqAll: false, markMasqBit: 13, externalSetMarkChain: undefined, conditionsV4: [], conditionsV6: [], portMappings: [] });
  });

  it.each([
    [{ backend: 'ipvs' }, 'invalid backend "ipvs"'],
    [{ snat: 'yes' }, 'invalid snat "yes"'],
    [{ masqAll: 1 }, 'invalid masqAll 1'],
    [{ markMasqBit: 32 }, 'invalid markMasqBit 32'],
    [{ markMasqBit: -1 }, 'invalid markMasqBit -1'],
    [{ markMasqBit: 1.5 }, 'invalid markMasqBit 1.5'],
    [{ externalSetMarkChain: 'KUBE MARK' }, 'invalid externalSetMarkChain "KUBE MARK"'],
    [{ externalSetMarkChain: 'KUBE-MARK-MASQ', markMasqBit: 14 }, 'cannot specify both externalSetMarkChain "KUBE-MARK-MASQ" and markMasqBit 14'],
    [{ conditionsV4: '-s 10.0.0.0/8' }, 'invalid conditionsV4 "-s 10.0.0.0/8"'],
    [{ backend: 'iptables', conditionsV4: ['ip', 'saddr', '10.0.0.0/8'] }, 'invalid conditionsV4: nftables conditions with backend "iptables"'],
    [{ backend: 'nftables', conditionsV6: ['!', '-s', 'fd00::/8'] }, 'invalid conditionsV6: iptables-only options with backend "nftables"'],
    [{ backend: 'nftables', externalSetMarkChain: 'KUBE-MARK-MASQ' }, 'invalid externalSetMarkChain: iptables-only options with backend "nftables"'],
    [{ runtimeConfig: { portMappings: [{ ...mapping, hostPort: 0 }] } }, 'invalid runtimeConfig.portMappings[0].hostPort 0'],
    [{ runtimeConfig: { portMappings: [{ ...mapping, hostPort: 65536 }] } }, 'invalid runtimeConfig.portMappings[0].hostPort 65536'],
    [{ runtimeConfig: { portMappings: [mapping, { ...mapping, containerPort: '80' }] } }, 'invalid runtimeConfig.portMappings[1].containerPort "80"'],
    [{ runtimeConfig: { portMappings: [{ ...mapping, protocol: 'icmp' }] } }, 'invalid runtimeConfig.portMappings[0].protocol "icmp"'],
    [{ runtimeConfig: { portMappings: [{ ...mapping, hostIP: '10.0.0.300' }] } }, 'invalid runtimeConfig.portMappings[0].hostIP "10.0.0.300"'],
    [{ runtimeConfig: { portMappings: { hostPort: 1 } } }, 'invalid runtimeConfig.portMappings'],
    // Wrong types, named by key path.
    [{ backend: 4 }, 'invalid backend 4'],
    [{ externalSetMarkChain: 7 }, 'invalid externalSetMarkChain 7'],
    [{ conditionsV6: ['-s', 1] }, 'invalid conditionsV6[1] 1, must be a string'],
    [{ runtimeConfig: 'x' }, 'invalid runtimeConfig "x", must be an object'],
    [{ runtimeConfig: { portMappings: ['8080:80'] } }, 'invalid runtimeConfig.portMappings[0] "8080:80", must be an object'],
    [{ runtimeConfig: { portMappings: [{ ...mapping, hostIP: 10 }] } }, 'invalid runtimeConfig.portMappings[0].hostIP 10'],
    [{ runtimeConfig: { portMappings: [{ ...mapping, protocol: 6 }] } }, 'invalid runtimeConfig.portMappings[0].protocol 6'],
  ])('refuses %j with code 7 naming the key and value', (extra, message) => {
    expect(() => loadConf(conf(extra))).toThrow(expect.objectContaining({ code: 7, message: expect.stringContaining(message) }));
  });

  it('reports every wrong type at once', () => {
    expect(() => loadConf(conf({ snat: 'yes', masqAll: 1 }))).toThrow(
      expect.objectContaining({ code: 7, message: 'invalid snat "yes", must be a boolean (and 1 more problem)', details: expect.stringContaining('invalid masqAll 1') }),
    );
  });

  it('infers the backend from backend-specific options, as upstream refuses the other one', () => {
    expect(loadConf(conf({ conditionsV4: ['ip', 'saddr', '10.0.0.0/8'] })).backend).toBe('nftables');
    expect(loadConf(conf({ conditionsV4: ['-s', '10.0.0.0/8'] })).backend).toBe('iptables');
    expect(loadConf(conf({ externalSetMarkChain: 'KUBE-MARK-MASQ' })).backend).toBe('iptables');
  });

  it('normalises protocols to lower case and takes tcp for a missing one', () => {
    const { portMappings } = loadConf(conf({ runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 2, protocol: 'UDP' }, { hostPort: 3, containerPort: 4 }] } }));
    expect(portMappings.map((entry) => entry.protocol)).toEqual(['udp', 'tcp']);
  });
});

describe('container addresses', () => {
  const prevResult = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'cni0' }, { name: 'eth0', sandbox: '/var/run/netns/x' }, { name: 'eth1', sandbox: '/var/run/netns/x' }],
    ips: [
      { address: '10.0.0.1/24', interface: 0 },
      { address: '10.1.0.2/24', interface: 2 },
      { address: '10.0.0.2/24', interface: 1 },
      { address: '10.0.0.3/24', interface: 1 },
      { address: 'fd00::2/64' },
    ],
  } as Result;

  it('picks the first address of each family on ifName in a sandbox, or naming no interface', () => {
    expect(containerAddresses(prevResult, 'eth0')).toEqual({
      v4: { ip: '10.0.0.2', cidr: '10.0.0.2/24', family: 4 },
      v6: { ip: 'fd00::2', cidr: 'fd00::2/64', family: 6 },
    });
  });
});

describe('rules', () => {
  const request = (extra: Record<string, unknown>) =>
    loadRequestConf({
      conf: conf({ runtimeConfig: { portMappings: [mapping, { hostPort: 53, containerPort: 5353, protocol: 'udp', hostIP: 'fd00::1' }] }, ...extra }),
      prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }, { address: 'fd00::2/64' }] } as Result,
      containerId: 'ctr1',
      ifName: 'eth0',
    });

  it('names chains and comments as upstream', () => {
    expect(dnatChainName('pmnet', 'ctr1')).toMatch(/^CNI-DN-[0-9a-f]{21}$/);
    expect(dnatComment('pmnet', 'ctr1')).toBe('dnat name: "pmnet" id: "ctr1"');
    expect(parseDnatComment('dnat name: "pmnet" id: "ctr1"')).toEqual({ network: 'pmnet', containerId: 'ctr1' });
    expect(parseDnatComment('dnat name: "pmnet" id: "ct...')).toBeUndefined();
  });

  it('writes hairpin, localhost and DNAT rules per mapping of the family (iptables)', () => {
    const c = request({});
    expect(dnatRules(c, c.containerV4!).rules).toEqual([
      ['-p', 'tcp', '--dport', '8080', '-s', '10.0.0.2/24', '-j', 'CNI-HOSTPORT-SETMARK'],
      ['-p', 'tcp', '--dport', '8080', '-s', '127.0.0.1', '-j', 'CNI-HOSTPORT-SETMARK'],
      ['-p', 'tcp', '--dport', '8080', '-j', 'DNAT', '--to-destination', '10.0.0.2:80'],
    ]);
    expect(dnatRules(c, c.containerV6!).rules.at(-1)).toEqual(['-p', 'udp', '--dport', '53', '-d', 'fd00::1', '-j', 'DNAT', '--to-destination', '[fd00::2]:5353']);
    expect(dnatRules(request({ masqAll: true }), c.containerV4!).rules[0]).toContain('0.0.0.0/0');
    expect(dnatRules(request({ snat: false }), c.containerV4!).rules).toHaveLength(1);
    expect(dnatRules(request({ externalSetMarkChain: 'KUBE-MARK-MASQ' }), c.containerV4!).rules[0]).toContain('KUBE-MARK-MASQ');
  });

  it('puts nftables conditions on the container\'s own DNAT rules, not on the shared entry rules', () => {
    const c = request({ conditionsV4: ['ip', 'saddr', '10.99.0.0/16'] });
    const script = nftAddScript(c, c.containerV4!, []);
    expect(script).toContain('add rule ip cni_hostport hostports ip saddr 10.99.0.0/16 tcp dport 8080 dnat to 10.0.0.2:80 comment "ctr1"');
    expect(script).toContain('add rule ip cni_hostport prerouting fib daddr type local jump hostports_all');
    expect(script).not.toContain('udp dport 53');
  });
});
