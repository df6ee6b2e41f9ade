// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPlugin } from '@cni/skel';
import { CniError } from '@cni/spec';
import { runInProcess } from '@cni/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { FAKE, makeFakeSysfs } from './fake-sysfs.fixture.ts';
import { createHostDevice } from './index.ts';
import { loadConf } from './net-conf.ts';
import { hasDpdkDriver, linkNameFromAuxiliary, linkNameFromKernelPath, linkNameFromPci } from './sysfs.ts';

const dir = mkdtempSync(join(tmpdir(), 'cni-hd-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sysfsRoot = makeFakeSysfs(join(dir, 'sys'), 'nic0');
const options = { sysfsRoot };

const base = { cniVersion: '1.0.0', name: 'hd-test', type: 'host-device' };
const load = (extra: Record<string, unknown>) => loadConf({ conf: { ...base, ...extra } }, options);
const failure = (extra: Record<string, unknown>) => {
  try {
    load(extra);
  } catch (error) {
    // skel prints anything but a CniError as code 999.
    return { code: CniError.isInstance(error) ? error.code : 999, msg: (error as Error).message };
  }
  throw new Error('loadConf accepted the configuration');
};

describe('host-device loadConf', () => {
  it('needs one selector', () => {
    expect(failure({})).toEqual({ code: 7, msg: 'specify either "device", "hwaddr", "kernelpath" or "pciBusID"' });
  });

  it('reads each selector', () => {
    expect(load({ device: 'eth1' })).toMatchObject({ device: 'eth1', hwaddr: '', kernelpath: '', pciBusID: '', auxDevice: '', dpdkMode: false, ipamType: '' });
    expect(load({ hwaddr: '0E:00:00:00:00:01' }).hwaddr).toBe('0e:00:00:00:00:01');
    expect(load({ kernelpath: FAKE.kernelpath }).kernelpath).toBe(FAKE.kernelpath);
    expect(load({ pciBusID: FAKE.pci })).toMatchObject({ pciBusID: FAKE.pci, dpdkMode: false });
    expect(load({ device: 'x', ipam: { type: 'static' } }).ipamType).toBe('static');
  });

  it('refuses keys of the wrong type and a bad MAC, naming key and value', () => {
    expect(failure({ device: 1 })).toEqual({ code: 7, msg: 'invalid device 1, must be a string' });
    expect(failure({ pciBusID: true })).toEqual({ code: 7, msg: 'invalid pciBusID true, must be a string' });
    expect(failure({ hwaddr: 'xx' })).toEqual({ code: 7, msg: 'invalid hwaddr "xx", must be a MAC address such as "0e:00:00:00:00:01"' });
    expect(failure({ device: 'x', runtimeConfig: { deviceID: 3 } })).toEqual({ code: 7, msg: 'invalid runtimeConfig.deviceID 3, must be a string' });
  });

  it('detects DPDK drivers (vfio-pci, igb_uio) from the PCI device', () => {
    expect(load({ pciBusID: FAKE.dpdk }).dpdkMode).toBe(true);
    expect(load({ pciBusID: FAKE.igbUio }).dpdkMode).toBe(true);
    expect(hasDpdkDriver(FAKE.virtio, options)).toBe(false);
    expect(failure({ pciBusID: '0000:99:00.0' }).msg).toBe(`error with host device: lstat ${sysfsRoot}/bus/pci/devices/0000:99:00.0/driver: no such file or directory`);
  });

  it('takes runtimeConfig.deviceID as a PCI device, else an auxiliary device, over pciBusID', () => {
    expect(load({ pciBusID: FAKE.virtio, runtimeConfig: { deviceID: FAKE.dpdk } })).toMatchObject({ pciBusID: FAKE.dpdk, dpdkMode: true });
    expect(load({ pciBusID: FAKE.virtio, runtimeConfig: { deviceID: FAKE.aux } })).toMatchObject({ pciBusID: '', auxDevice: FAKE.aux, dpdkMode: false });
    expect(failure({ device: 'eth1', runtimeConfig: { deviceID: 'nope' } })).toEqual({ code: 999, msg: 'runtime config DeviceID nope not found or unsupported' });
  });
});

describe('host-device sysfs lookups', () => {
  it('finds the link of a PCI, virtio, auxiliary and kernel-path device', () => {
    expect(linkNameFromPci(FAKE.pci, options)).toBe('nic0');
    expect(linkNameFromPci(FAKE.virtio, options)).toBe('nic0');
    expect(linkNameFromAuxiliary(FAKE.aux, options)).toBe('nic0');
    expect(linkNameFromKernelPath(FAKE.kernelpath, options)).toBe('nic0');
  });

  it('explains what is missing', () => {
    expect(() => linkNameFromPci(FAKE.dpdk, options)).toThrow(`no net directory under pci device ${FAKE.dpdk}`);
    expect(() => linkNameFromKernelPath('/sys/devices/empty0', options)).toThrow(`failed to find network device in path ${sysfsRoot}/devices/empty0/net`);
    expect(() => linkNameFromKernelPath('/proc/x', options)).toThrow('kernel device path "/proc/x" must be absolute and begin with /sys/devices/');
    expect(() => linkNameFromKernelPath('sys/devices/x', options)).toThrow('must be absolute');
  });
});

describe('host-device plugin without touching a link', () => {
  const plugin = createHostDevice(options);
  const run = (opts: Parameters<typeof runInProcess>[1]) => runInProcess((io) => runPlugin(plugin, io), opts);

  it('answers STATUS and GC without IPAM', async () => {
    const conf = { ...base, cniVersion: '1.1.0', device: 'x' };
    expect((await run({ command: 'STATUS', conf, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'GC', conf: { ...conf, 'cni.dev/valid-attachments': [] }, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('succeeds DEL without a namespace and with one already gone', async () => {
    expect((await run({ command: 'DEL', netns: '', conf: { ...base, device: 'x' }, cniPath: '/x' })).exitCode).toBe(0);
    expect((await run({ command: 'DEL', netns: '/var/run/netns/absent-hd', conf: { ...base, device: 'x' }, cniPath: '/x' })).exitCode).toBe(0);
  });

  it('refuses ADD without a selector', async () => {
    const r = await run({ command: 'ADD', netns: '/var/run/netns/absent-hd', conf: base, cniPath: '/x' });
    expect(r.error).toEqual({ code: 7, msg: 'specify either "device", "hwaddr", "kernelpath" or "pciBusID"' });
  });
});
