// SPDX-License-Identifier: Apache-2.0
import { existsSync } from 'node:fs';
import { getDefaultRunner, type CommandRunner } from '@cni/netfilter';
import type { FirewallAddress } from './net-conf.ts';

const FIREWALLD_NAME = 'org.fedoraproject.FirewallD1';
const FIREWALLD_PATH = '/org/fedoraproject/FirewallD1';
const ZONE_INTERFACE = 'org.fedoraproject.FirewallD1.zone';

/**
 * One D-Bus method call on the system bus (`DBUS_SYSTEM_BUS_ADDRESS`, else
 * /run/dbus/system_bus_socket) through `dbus-send`, which every D-Bus installation has.
 */
async function call(runner: CommandRunner, destination: string, path: string, method: string, args: readonly string[]): Promise<{ ok: boolean; output: string }> {
  const result = await runner('dbus-send', ['--system', '--print-reply', `--dest=${destination}`, path, method, ...args.map((arg) => `string:${arg}`)]);
  return { ok: result.exitCode === 0, output: result.exitCode === 0 ? result.stdout : result.stderr.trim() };
}

/**
 * False when the system bus address names only `unix:path=` sockets and none of them exists: no
 * bus, so no firewalld, and no `dbus-send` start needed to learn it (most container hosts have
 * no system bus in the namespace the plugin runs in). True whenever it cannot tell.
 */
export function systemBusMayExist(address: string = process.env['DBUS_SYSTEM_BUS_ADDRESS'] ?? 'unix:path=/run/dbus/system_bus_socket'): boolean {
  for (const entry of address.split(';')) {
    const path = /^unix:(?:.*,)?path=([^,]*)/.exec(entry)?.[1];
    if (path === undefined) return true;
    try {
      if (existsSync(decodeURIComponent(path))) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/** True when firewalld owns its name on the system bus (upstream's `isFirewalldRunning`). */
export async function isFirewalldRunning(runner: CommandRunner = getDefaultRunner()): Promise<boolean> {
  // Only for the default runner: another one may run dbus-send elsewhere, with another environment.
  if (runner === getDefaultRunner() && !systemBusMayExist()) return false;
  try {
    const reply = await call(runner, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.GetNameOwner', [FIREWALLD_NAME]);
    return reply.ok;
  } catch {
    return false;
  }
}

/** The firewalld backend: each container address a source of the zone. */
export class FirewalldFirewall {
  readonly #runner: CommandRunner;

  constructor(options: { runner?: CommandRunner } = {}) {
    this.#runner = options.runner ?? getDefaultRunner();
  }

  async #zone(method: string, zone: string, source: string) {
    try {
      return await call(this.#runner, FIREWALLD_NAME, FIREWALLD_PATH, `${ZONE_INTERFACE}.${method}`, [zone, source]);
    } catch (error) {
      return { ok: false, output: `dbus-send could not run: ${(error as Error).message}` };
    }
  }

  /** ADD: `addSource(zone, ip)`; already in the zone is fine. A failure takes back the sources added so far. */
  async add(zone: string, addresses: readonly FirewallAddress[]): Promise<void> {
    const added: FirewallAddress[] = [];
    for (const address of addresses) {
      const reply = await this.#zone('addSource', zone, address.host);
      if (!reply.ok && !reply.output.includes('ZONE_ALREADY_SET')) {
        await this.del(zone, added);
        throw new Error(`failed to add the address ${address.host} to ${zone} zone: ${reply.output}`);
      }
      if (reply.ok) added.push(address);
    }
  }

  /** DEL: `removeSource(zone, ip)`, errors ignored as upstream. */
  async del(zone: string, addresses: readonly FirewallAddress[]): Promise<void> {
    for (const address of addresses) await this.#zone('removeSource', zone, address.host);
  }

  /** CHECK: `querySource(zone, ip)` answers true (upstream only checks that the call succeeds). */
  async check(zone: string, addresses: readonly FirewallAddress[]): Promise<void> {
    for (const address of addresses) {
      const reply = await this.#zone('querySource', zone, address.host);
      if (!reply.ok || !/boolean true/.test(reply.output)) throw new Error(`failed to find the address ${address.host} in ${zone} zone`);
    }
  }
}
