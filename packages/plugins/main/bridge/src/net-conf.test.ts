// SPDX-License-Identifier: Apache-2.0
import { loadArgs, runPlugin } from '@cni/skel';
import type { NetConf, ResultV100 } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { bridge, calcGateways, collectVlanTrunk, loadConf } from './index.ts';

const base = { cniVersion: '1.0.0', name: 'br-test', type: 'bridge', ipam: { type: 'host-local' } };
const load = (extra: Record<string, unknown> = {}, cniArgs = '') =>
  loadConf({ conf: { ...base, ...extra } as unknown as NetConf, loadArgs: (schema) => loadArgs(cniArgs, schema) });

describe('bridge loadConf', () => {
  it('applies upstream defaults', () => {
    expect(load()).toMatchObject({
      bridge: 'cni0',
      isGateway: false,
      isDefaultGateway: false,
      forceAddress: false,
      ipMasq: false,
      ipMasqBackend: undefined,
      mtu: 0,
      hairpinMode: false,
      promiscMode: false,
      vlan: 0,
      vlanTrunk: undefined,
      vlans: [],
      preserveDefaultVlan: false,
      macspoofchk: false,
      enabledad: false,
      disableContainerInterface: false,
      portIsolation: false,
      mac: undefined,
      isLayer3: true,
    });
  });

  it('makes isDefaultGateway imply isGateway', () => {
    expect(load({ isDefaultGateway: true })).toMatchObject({ isGateway: true, isDefaultGateway: true });
  });

  it('is layer 2 only without an IPAM type', () => {
    expect(load({ ipam: undefined }).isLayer3).toBe(false);
    expect(load({ ipam: {} }).isLayer3).toBe(false);
    expect(load({ ipam: undefined, disableContainerInterface: true }).disableContainerInterface).toBe(true);
  });

  it('takes the MAC from runtimeConfig, then args.cni, then CNI_ARGS', () => {
    const all = { runtimeConfig: { mac: '0a:00:00:00:00:01' }, args: { cni: { mac: '0a:00:00:00:00:02' } } };
    expect(load(all, 'MAC=0a:00:00:00:00:03').mac).toBe('0a:00:00:00:00:01');
    expect(load({ args: all.args }, 'MAC=0a:00:00:00:00:03').mac).toBe('0a:00:00:00:00:02');
    expect(load({}, 'MAC=0A-00-00-00-00-03').mac).toBe('0a:00:00:00:00:03');
    expect(() => load({}, 'MAC=0a:00:00:00:00:03;FOO=1')).toThrow('ARGS: unknown args ["FOO=1"]');
    expect(load({}, 'IgnoreUnknown=1;MAC=0a:00:00:00:00:03;FOO=1').mac).toBe('0a:00:00:00:00:03');
  });

  it.each([
    [{ bridge: 'a-name-longer-than-15' }, 'invalid bridge "a-name-longer-than-15", must be an interface name (1-15 bytes, no "/", ":" or spaces)'],
    [{ bridge: 7 }, 'invalid bridge 7, must be a string'],
    [{ isGateway: 'true' }, 'invalid isGateway "true", must be a boolean'],
    [{ mtu: 70000 }, 'invalid mtu 70000, must be an integer in [0, 65535]'],
    [{ vlan: 4095 }, 'invalid vlan 4095, must be an integer in [0, 4094]'],
    [{ vlan: -1 }, 'invalid vlan -1, must be an integer in [0, 4094]'],
    [{ vlanTrunk: [{ id: 0 }] }, 'invalid vlanTrunk[0].id 0, must be an integer in [1, 4094]'],
    [{ vlanTrunk: [{ minID: 10 }] }, 'vlanTrunk[0]: minID and maxID should be configured simultaneously, maxID is missing'],
    [{ vlanTrunk: [{ maxID: 10 }] }, 'vlanTrunk[0]: minID and maxID should be configured simultaneously, minID is missing'],
    [{ vlanTrunk: [{ minID: 20, maxID: 10 }] }, 'vlanTrunk[0]: minID 20 is greater than maxID 10'],
    [{ vlanTrunk: [{ minID: 1, maxID: 4095 }] }, 'invalid vlanTrunk[0].maxID 4095, must be an integer in [1, 4094]'],
    [{ vlanTrunk: 5 }, 'invalid vlanTrunk 5, must be a list of {id} or {minID, maxID}'],
    [{ ipMasqBackend: 'pf' }, 'invalid ipMasqBackend "pf", must be one of "iptables", "nftables"'],
    [{ hairpinMode: true, promiscMode: true }, 'cannot set hairpin mode and promiscuous mode at the same time'],
    [{ disableContainerInterface: true }, 'cannot use IPAM when DisableContainerInterface flag is set'],
    [{ runtimeConfig: { mac: 'not-a-mac' } }, 'invalid runtimeConfig.mac "not-a-mac", must be a MAC address'],
    [{ args: { cni: { mac: '00:11:22' } } }, 'invalid args.cni.mac "00:11:22", must be a MAC address'],
  ])('refuses %j with code 7', (extra, message) => {
    expect(() => load(extra)).toThrow(expect.objectContaining({ code: 7, message }));
  });

  it('refuses a bad CNI_ARGS MAC naming it', () => {
    expect(() => load({}, 'MAC=zz')).toThrow('invalid CNI_ARGS MAC "zz", must be a MAC address');
  });
});

describe('collectVlanTrunk', () => {
  it('merges ids and ranges, sorted, without duplicates', () => {
    expect(collectVlanTrunk([{ id: 101 }, { minID: 200, maxID: 203 }, { id: 201 }, { minID: 5, maxID: 5, id: 4094 }])).toEqual([5, 101, 200, 201, 202, 203, 4094]);
    expect(collectVlanTrunk([])).toEqual([]);
    expect(collectVlanTrunk(undefined)).toEqual([]);
  });
});

describe('calcGateways', () => {
  const result = (): ResultV100 => ({
    cniVersion: '1.1.0',
    ips: [{ address: '10.1.2.7/24' }, { address: 'fd00::7/64', gateway: 'fd00::fe' }],
  });

  it('gives IPs interface 2, and nothing else without isGateway', () => {
    const r = result();
    expect(calcGateways(r, { isGateway: false, isDefaultGateway: false })).toEqual({ 4: [], 6: [] });
    expect(r.ips).toEqual([{ address: '10.1.2.7/24', interface: 2 }, { address: 'fd00::7/64', gateway: 'fd00::fe', interface: 2 }]);
    expect(r.routes).toBeUndefined();
  });

  it('computes missing gateways as the subnet + 1 and adds default routes per family', () => {
    const r = result();
    expect(calcGateways(r, { isGateway: true, isDefaultGateway: true })).toEqual({ 4: ['10.1.2.1/24'], 6: ['fd00::fe/64'] });
    expect(r.ips?.[0]?.gateway).toBe('10.1.2.1');
    expect(r.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.1.2.1' },
      { dst: '::/0', gw: 'fd00::fe' },
    ]);
  });

  it('keeps an IPAM default route that has a gateway', () => {
    const r = { ...result(), routes: [{ dst: '0.0.0.0/0', gw: '10.1.2.254' }] };
    calcGateways(r, { isGateway: true, isDefaultGateway: true });
    expect(r.routes).toEqual([
      { dst: '0.0.0.0/0', gw: '10.1.2.254' },
      { dst: '::/0', gw: 'fd00::fe' },
    ]);
  });
});

describe('bridge requests refused before anything is made', () => {
  const run = (options: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(bridge, io), options);

  it('names the key and value on every verb', async () => {
    for (const command of ['ADD', 'CHECK', 'DEL'] as const) {
      const r = await run({ command, netns: '/var/run/netns/absent-bridge', conf: { ...base, vlan: 5000 }, cniPath: '/nonexistent' });
      expect(r.error).toEqual({ code: 7, msg: 'invalid vlan 5000, must be an integer in [0, 4094]' });
    }
    for (const command of ['GC', 'STATUS'] as const) {
      const r = await run({ command, conf: { ...base, cniVersion: '1.1.0', promiscMode: true, hairpinMode: true }, cniPath: '/nonexistent' });
      expect(r.error).toEqual({ code: 7, msg: 'cannot set hairpin mode and promiscuous mode at the same time' });
    }
  });

  it('answers STATUS without IPAM with success', async () => {
    const r = await run({ command: 'STATUS', conf: { ...base, cniVersion: '1.1.0', ipam: undefined }, cniPath: '/nonexistent' });
    expect(r.exitCode).toBe(0);
  });
});
