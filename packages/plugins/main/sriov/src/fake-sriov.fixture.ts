// SPDX-License-Identifier: Apache-2.0
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { VfInfo, VfSettings } from '@cni/netlink';
import type { VfControl } from './vf-control.ts';

/** The PF's PCI address in {@link makeFakeSriovSysfs}; VF n is `0000:af:02.<n>`. */
export const FAKE_PF_PCI = '0000:af:00.0';
export const fakeVfPci = (n: number): string => `0000:af:02.${n}`;

/**
 * A sysfs tree of one PF (`pfName`) and its VFs, as sriov-cni's own tests build one: the PF's
 * `virtfnN` links, each VF's `physfn` and `driver` links, and the VF netdev in `net/` for a
 * kernel driver (tests make that netdev: a veth or dummy). Returns `root`.
 */
export function makeFakeSriovSysfs(root: string, pfName: string, vfs: readonly { driver: string; netdev?: string }[]): string {
  const devices = join(root, 'bus/pci/devices');
  const pf = join(devices, FAKE_PF_PCI);
  mkdirSync(join(pf, 'net', pfName), { recursive: true });
  for (const [n, vf] of vfs.entries()) {
    const dir = join(devices, fakeVfPci(n));
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(root, 'bus/pci/drivers', vf.driver), { recursive: true });
    symlinkSync(`../${FAKE_PF_PCI}`, join(dir, 'physfn'));
    symlinkSync(`../${fakeVfPci(n)}`, join(pf, `virtfn${n}`));
    symlinkSync(`../../drivers/${vf.driver}`, join(dir, 'driver'));
    if (vf.netdev) mkdirSync(join(dir, 'net', vf.netdev), { recursive: true });
  }
  return root;
}

const pristine = (vf: number): VfInfo => ({
  vf,
  mac: '00:00:00:00:00:00',
  vlan: 0,
  qos: 0,
  vlanProto: '802.1Q',
  vlans: [],
  txRate: 0,
  minTxRate: 0,
  maxTxRate: 0,
  spoofchk: true,
  trust: false,
  linkState: 'auto',
});

/**
 * A PF-side step for a kernel without an SR-IOV driver: VFs held in memory, every call recorded,
 * so a host test observes what the plugin asked of the PF (the VM tier proves the real one).
 */
export class FakeVfControl implements VfControl {
  readonly vfs = new Map<string, VfInfo>();
  readonly calls: { pfName: string; vf: number; settings: VfSettings }[] = [];
  /** Make the next `apply` whose settings have this key fail. */
  failOn: keyof VfSettings | undefined;

  info(pfName: string, vf: number): VfInfo {
    return this.vfs.get(`${pfName}/${vf}`) ?? pristine(vf);
  }

  async read(pfName: string, vf: number): Promise<VfInfo> {
    return this.info(pfName, vf);
  }

  async apply(pfName: string, vf: number, settings: VfSettings): Promise<void> {
    if (this.failOn !== undefined && settings[this.failOn] !== undefined) throw new Error(`Operation not supported (${this.failOn})`);
    this.calls.push({ pfName, vf, settings });
    const info = this.info(pfName, vf);
    this.vfs.set(`${pfName}/${vf}`, {
      ...info,
      ...(settings.mac ? { mac: settings.mac } : {}),
      ...(settings.vlan ? { vlan: settings.vlan.vlan, qos: settings.vlan.qos ?? 0, vlanProto: settings.vlan.proto ?? '802.1Q' } : {}),
      ...(settings.rate ? { minTxRate: settings.rate.minTxRate, maxTxRate: settings.rate.maxTxRate, txRate: settings.rate.maxTxRate } : {}),
      ...(settings.spoofchk === undefined ? {} : { spoofchk: settings.spoofchk }),
      ...(settings.trust === undefined ? {} : { trust: settings.trust }),
      ...(settings.linkState ? { linkState: settings.linkState } : {}),
    });
  }
}
