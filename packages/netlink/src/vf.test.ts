// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { NetlinkError } from './errors.ts';
import { attributeList, attributes } from './internal/message/reader.ts';
import { MessageWriter } from './internal/message/writer.ts';
import { decodeVfInfoList, encodeVfSettings } from './vf.ts';

// The layouts are the kernel's uapi structs (include/uapi/linux/if_link.h): every struct starts
// with `__u32 vf`; the VLAN protocol is big-endian; a setting the driver lacks is (u32)-1.

function attr(type: number, body: Buffer): Buffer {
  const length = 4 + body.length;
  const out = Buffer.alloc((length + 3) & ~3);
  out.writeUInt16LE(length, 0);
  out.writeUInt16LE(type, 2);
  body.copy(out, 4);
  return out;
}
const u32s = (...values: number[]): Buffer => {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => out.writeUInt32LE(value >>> 0, i * 4));
  return out;
};

/** One IFLA_VF_INFO as a 6.1 kernel fills it for netdevsim (rtnl_fill_vfinfo), stats left out. */
function vfInfo(vf: number, options: { mac: string; vlan: number; qos: number; proto: number; min: number; max: number; spoof: number; trust: number; state: number }): Buffer {
  const mac = Buffer.alloc(36);
  mac.writeUInt32LE(vf, 0);
  Buffer.from(options.mac.split(':').map((part) => parseInt(part, 16))).copy(mac, 4);
  const vlanInfo = Buffer.alloc(16);
  vlanInfo.writeUInt32LE(vf, 0);
  vlanInfo.writeUInt32LE(options.vlan, 4);
  vlanInfo.writeUInt32LE(options.qos, 8);
  vlanInfo.writeUInt16BE(options.proto, 12);
  const broadcast = Buffer.alloc(32, 0);
  broadcast.fill(0xff, 0, 6);
  return attr(
    0x8001, // IFLA_VF_INFO, nested flag as the kernel sets it
    Buffer.concat([
      attr(1, mac),
      attr(13, broadcast),
      attr(2, u32s(vf, options.vlan, options.qos)),
      attr(0x8000 | 12, attr(1, vlanInfo)),
      attr(3, u32s(vf, options.max)),
      attr(6, u32s(vf, options.min, options.max)),
      attr(4, u32s(vf, options.spoof)),
      attr(5, u32s(vf, options.state)),
      attr(7, u32s(vf, 0xffffffff)),
      attr(9, u32s(vf, options.trust)),
    ]),
  );
}

describe('IFLA_VFINFO_LIST decoding', () => {
  it('reads mac, broadcast, vlan list with protocol, rates, spoofchk, trust, link state, and drops unreported settings', () => {
    const list = Buffer.concat([
      vfInfo(0, { mac: '00:00:00:00:00:00', vlan: 0, qos: 0, proto: 0x8100, min: 0, max: 0, spoof: 1, trust: 0, state: 0 }),
      vfInfo(1, { mac: '0a:00:00:00:00:11', vlan: 100, qos: 3, proto: 0x88a8, min: 10, max: 200, spoof: 0, trust: 1, state: 2 }),
    ]);
    const [first, second] = decodeVfInfoList(list);
    expect(first).toEqual({
      vf: 0,
      mac: '00:00:00:00:00:00',
      broadcast: 'ff:ff:ff:ff:ff:ff',
      vlan: 0,
      qos: 0,
      vlanProto: '802.1Q',
      vlans: [{ vlan: 0, qos: 0, proto: '802.1Q' }],
      txRate: 0,
      minTxRate: 0,
      maxTxRate: 0,
      spoofchk: true,
      trust: false,
      linkState: 'auto',
    });
    expect(second).toMatchObject({
      vf: 1,
      mac: '0a:00:00:00:00:11',
      vlan: 100,
      qos: 3,
      vlanProto: '802.1ad',
      txRate: 200,
      minTxRate: 10,
      maxTxRate: 200,
      spoofchk: false,
      trust: true,
      linkState: 'disable',
    });
    expect(second).not.toHaveProperty('rssQueryEn');
  });

  it('takes as many MAC bytes as the PF address has (InfiniBand: 20)', () => {
    const mac = Buffer.alloc(36);
    mac.writeUInt32LE(2, 0);
    mac.fill(0xab, 4, 24);
    const [vf] = decodeVfInfoList(attr(1, attr(1, mac)), 20);
    expect(vf?.vf).toBe(2);
    expect(vf?.mac.split(':')).toHaveLength(20);
    expect(vf?.linkState).toBe('auto');
  });
});

describe('VF settings encoding', () => {
  function encode(vf: number, settings: Parameters<typeof encodeVfSettings>[2]): Map<number, Buffer> {
    const writer = new MessageWriter(Buffer.alloc(512));
    writer.begin(16, 0, 1);
    encodeVfSettings(writer, vf, settings);
    const length = writer.finish();
    const top = attributeList(writer.buffer.subarray(16, length));
    expect(top.map(([type]) => type)).toEqual([22]); // IFLA_VFINFO_LIST
    const infos = attributeList(top[0]![1]);
    expect(infos.map(([type]) => type)).toEqual([1]); // one IFLA_VF_INFO
    return attributes(infos[0]![1]);
  }

  it('writes each setting in the kernel struct layout, as `ip link set PF vf 3 ...` does', () => {
    const attrs = encode(3, {
      mac: '0a:58:00:00:00:03',
      vlan: { vlan: 100, qos: 5, proto: '802.1ad' },
      rate: { minTxRate: 10, maxTxRate: 1000 },
      spoofchk: false,
      trust: true,
      linkState: 'enable',
    });
    expect(attrs.get(1)?.toString('hex')).toBe('03000000' + '0a5800000003' + '00'.repeat(26));
    const vlanList = attributeList(attrs.get(12)!);
    expect(vlanList.map(([type]) => type)).toEqual([1]);
    expect(vlanList[0]![1].toString('hex')).toBe('03000000' + '64000000' + '05000000' + '88a8' + '0000');
    expect(attrs.get(6)?.toString('hex')).toBe('03000000' + '0a000000' + 'e8030000');
    expect(attrs.get(4)?.toString('hex')).toBe('0300000000000000');
    expect(attrs.get(9)?.toString('hex')).toBe('0300000001000000');
    expect(attrs.get(5)?.toString('hex')).toBe('0300000001000000');
  });

  it('writes only what is given, 802.1Q by default', () => {
    const attrs = encode(0, { vlan: { vlan: 7 } });
    expect([...attrs.keys()]).toEqual([12]);
    expect(attributeList(attrs.get(12)!)[0]![1].readUInt16BE(12)).toBe(0x8100);
  });

  it('refuses out-of-range values before anything is sent', () => {
    const writer = new MessageWriter(Buffer.alloc(512));
    writer.begin(16, 0, 1);
    const bad = [
      { vlan: { vlan: 4096 } },
      { vlan: { vlan: 1, qos: 8 } },
      { vlan: { vlan: 1, proto: '802.1x' as never } },
      { mac: 'nope' },
      { rate: { minTxRate: -1, maxTxRate: 0 } },
      { linkState: 'up' as never },
    ];
    for (const settings of bad) {
      expect(() => encodeVfSettings(writer, 0, settings)).toThrow(NetlinkError);
    }
    expect(() => encodeVfSettings(writer, -1, {})).toThrow(/VF number -1/);
  });
});
