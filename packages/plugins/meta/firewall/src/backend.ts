// SPDX-License-Identifier: Apache-2.0
import type { PluginRequest } from '@cni/skel';
import { FirewalldFirewall, isFirewalldRunning } from './firewalld-backend.ts';
import { IptablesFirewall, type Attachment } from './iptables-backend.ts';
import type { FirewallAddress, FirewallNetConf } from './net-conf.ts';

/** What ADD, DEL and CHECK need of a backend. */
export interface FirewallBackend {
  add(addresses: readonly FirewallAddress[]): Promise<void>;
  /** DEL of `addresses`; with none (no prevResult), of what the backend recorded for the attachment, if it records anything. */
  del(addresses: readonly FirewallAddress[]): Promise<void>;
  check(addresses: readonly FirewallAddress[]): Promise<void>;
}

/** The backend the configuration names, else firewalld when it runs, else iptables (upstream's `getBackend`). */
export async function getBackend(
  conf: FirewallNetConf,
  request: Pick<PluginRequest, 'containerId' | 'ifName' | 'command'>,
): Promise<FirewallBackend> {
  const running = conf.backend === 'iptables' ? false : await isFirewalldRunning();
  const name = conf.backend ?? (running ? 'firewalld' : 'iptables');
  if (name === 'firewalld') {
    // DEL stays lenient (upstream ignores its errors); ADD and CHECK say plainly why they cannot work.
    if (!running && request.command !== 'DEL') {
      const bus = process.env['DBUS_SYSTEM_BUS_ADDRESS'] ?? 'unix:path=/run/dbus/system_bus_socket';
      throw new Error(`backend "firewalld" requested but no firewalld owns "org.fedoraproject.FirewallD1" on the D-Bus system bus "${bus}"`);
    }
    const firewalld = new FirewalldFirewall();
    return {
      add: (addresses) => firewalld.add(conf.firewalldZone, addresses),
      // firewalld's zone sources name no attachment: without prevResult there is nothing to find.
      del: (addresses) => firewalld.del(conf.firewalldZone, addresses),
      check: (addresses) => firewalld.check(conf.firewalldZone, addresses),
    };
  }
  const iptables = new IptablesFirewall();
  const owner: Attachment = { network: conf.name, containerId: request.containerId, ifName: request.ifName };
  return {
    add: (addresses) => iptables.add(conf.iptablesAdminChainName, addresses, owner),
    del: (addresses) => (addresses.length > 0 ? iptables.del(addresses, owner) : iptables.delOwned(owner)),
    check: (addresses) => iptables.check(conf.iptablesAdminChainName, addresses),
  };
}
