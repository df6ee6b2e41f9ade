// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { CniError } from '@cni/spec';
import { loadConf } from './net-conf.ts';

const base = { cniVersion: '1.1.0', name: 'sriov-net', type: 'sriov', deviceID: '0000:af:02.0' };
const load = (extra: Record<string, unknown>, args: Record<string, string> = {}) => loadConf({ conf: { ...base, ...extra } as never, args });

function refused(extra: Record<string, unknown>, args: Record<string, string> = {}): { code: number; msg: string } {
  try {
    load(extra, args);
  } catch (error) {
    expect(error).toBeInstanceOf(CniError);
    return (error as CniError).toJSON() as { code: number; msg: string };
  }
  throw new Error(`accepted ${JSON.stringify(extra)}`);
}

describe('sriov loadConf', () => {
  it('reads every key of sriov-cni', () => {
    const conf = load({
      mac: 'CA:FE:C0:FF:EE:00',
      vlan: 1000,
      vlanQoS: 4,
      vlanProto: '802.1AD',
      min_tx_rate: 100,
      max_tx_rate: 200,
      spoofchk: 'off',
      trust: 'on',
      link_state: 'enable',
      logLevel: 'debug',
      logFile: '/tmp/sriov.log',
      dataDir: '/run/sriov-test',
      ipam: { type: 'host-local' },
    });
    expect(conf).toMatchObject({
      deviceID: '0000:af:02.0',
      mac: 'ca:fe:c0:ff:ee:00',
      vlan: 1000,
      vlanQoS: 4,
      vlanProto: '802.1ad',
      minTxRate: 100,
      maxTxRate: 200,
      spoofchk: false,
      trust: true,
      linkState: 'enable',
      logLevel: 'debug',
      dataDir: '/run/sriov-test',
      ipamType: 'host-local',
    });
  });

  it('defaults: nothing to set, sriov-cni data folder, info level; vlan brings QoS 0 and 802.1Q', () => {
    const conf = load({});
    expect(conf).toMatchObject({ dataDir: '/var/lib/cni/sriov', logLevel: 'info', ipamType: '' });
    for (const key of ['vlan', 'vlanQoS', 'vlanProto', 'mac', 'spoofchk', 'trust', 'linkState', 'minTxRate', 'maxTxRate']) expect(conf).not.toHaveProperty(key);
    expect(load({ vlan: 0 })).toMatchObject({ vlan: 0, vlanQoS: 0, vlanProto: '802.1Q' });
    expect(load({ deviceID: 'AF:02.1' }).deviceID).toBe('0000:af:02.1');
  });

  it('takes the MAC from runtimeConfig over CNI_ARGS over the key', () => {
    expect(load({ mac: '0a:00:00:00:00:01' }, { MAC: '0a:00:00:00:00:02' }).mac).toBe('0a:00:00:00:00:02');
    expect(load({ mac: '0a:00:00:00:00:01', runtimeConfig: { mac: '0a:00:00:00:00:03' } }, { MAC: '0a:00:00:00:00:02' }).mac).toBe('0a:00:00:00:00:03');
    expect(load({ runtimeConfig: { deviceID: '0000:af:02.3' } }).deviceID).toBe('0000:af:02.3');
  });

  it('refuses bad values with code 7, naming the key and the value', () => {
    const { deviceID: _, ...noDevice } = base;
    expect(() => loadConf({ conf: noDevice as never, args: {} })).toThrow(/deviceID/);
    expect(refused({ deviceID: 'eth0' })).toEqual({ code: 7, msg: 'invalid deviceID "eth0", must be a PCI address such as "0000:03:02.3"' });
    expect(refused({ vlan: 4095 })).toEqual({ code: 7, msg: 'invalid vlan 4095, must be an integer in the range 0-4094' });
    expect(refused({ vlan: '10' })).toMatchObject({ code: 7, msg: 'invalid vlan "10", must be an integer in the range 0-4094' });
    expect(refused({ vlan: 1, vlanQoS: 8 })).toMatchObject({ code: 7, msg: 'invalid vlanQoS 8, must be an integer in the range 0-7' });
    expect(refused({ vlanQoS: 1 })).toEqual({ code: 7, msg: 'vlanQoS 1 needs "vlan" to be set' });
    expect(refused({ vlanProto: '802.1ad' })).toEqual({ code: 7, msg: 'vlanProto "802.1ad" needs "vlan" to be set' });
    expect(refused({ vlan: 0, vlanQoS: 2 })).toEqual({ code: 7, msg: 'vlanQoS 2 needs a non-zero vlan, not 0' });
    expect(refused({ vlan: 0, vlanProto: '802.1ad' })).toEqual({ code: 7, msg: 'vlanProto "802.1ad" needs a non-zero vlan, not 0' });
    expect(refused({ vlan: 5, vlanProto: '802.1x' })).toEqual({ code: 7, msg: 'invalid vlanProto "802.1x", must be "802.1q" or "802.1ad"' });
    expect(refused({ spoofchk: true })).toEqual({ code: 7, msg: 'invalid spoofchk true, must be a string' });
    expect(refused({ trust: 'yes' })).toEqual({ code: 7, msg: 'invalid trust "yes", must be "on" or "off"' });
    expect(refused({ link_state: 'up' })).toEqual({ code: 7, msg: 'invalid link_state "up", must be one of auto, enable, disable' });
    expect(refused({ min_tx_rate: -1 })).toMatchObject({ code: 7, msg: 'invalid min_tx_rate -1, must be an integer in the range 0-4294967295' });
    expect(refused({ min_tx_rate: 300, max_tx_rate: 200 })).toEqual({ code: 7, msg: 'invalid min_tx_rate 300, must not exceed max_tx_rate 200' });
    expect(refused({ mac: 'nope' })).toEqual({ code: 7, msg: 'invalid mac "nope", must be a MAC address such as "0e:00:00:00:00:01"' });
    expect(refused({}, { MAC: 'zz' })).toEqual({ code: 7, msg: 'invalid CNI_ARGS MAC "zz", must be a MAC address such as "0e:00:00:00:00:01"' });
    expect(refused({ runtimeConfig: { mac: 5 } })).toEqual({ code: 7, msg: 'invalid runtimeConfig.mac 5, must be a string' });
    expect(refused({ logLevel: 'trace' })).toEqual({ code: 7, msg: 'invalid logLevel "trace", must be one of panic, error, warning, info, debug' });
    expect(refused({ dataDir: 'relative' })).toEqual({ code: 7, msg: 'invalid dataDir "relative", must be an absolute path' });
  });
});
