// SPDX-License-Identifier: Apache-2.0
import { DhcpError } from './errors.ts';
import { DHCP_OPTION, defaultClientId, optionCode } from './options.ts';

/** Where the daemon listens unless configured otherwise (upstream's default). */
export const DEFAULT_SOCKET_PATH = '/run/cni/dhcp.sock';
/** The options requested unless a `request` entry has `skipDefault`. */
export const DEFAULT_REQUEST_LIST: readonly number[] = Object.freeze([
  DHCP_OPTION.SUBNET_MASK,
  DHCP_OPTION.ROUTER,
  DHCP_OPTION.DNS_SERVERS,
  DHCP_OPTION.DOMAIN_NAME,
  DHCP_OPTION.STATIC_ROUTES,
  DHCP_OPTION.CLASSLESS_ROUTES,
]);

/** The dhcp plugin's configuration, read from the network configuration and CNI_ARGS. */
export interface DhcpConfig {
  /** The network's name (part of the default client identifier). */
  readonly name: string;
  /** `ipam.daemonSocketPath`. */
  readonly daemonSocketPath: string;
  /** `ipam.priority`: the metric of the routes in the result. */
  readonly priority: number | undefined;
  /** Option 55: the parameters asked of the server, in order, without repeats. */
  readonly requestList: readonly number[];
  /** Options sent to the server (`ipam.provide`), by code; always holds a client identifier. */
  readonly provide: ReadonlyMap<number, Buffer>;
}

/** The inputs of {@link loadDhcpConfig}. */
export interface DhcpConfigInput {
  /** The network configuration as parsed. */
  readonly conf: Readonly<Record<string, unknown>>;
  /** CNI_ARGS as key/value pairs (`fromArg` reads them). */
  readonly args: Readonly<Record<string, string>>;
  readonly containerId: string;
  readonly ifName: string;
}

function configError(message: string): DhcpError {
  return new DhcpError(message, { code: 7 });
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function listOf(ipam: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const value = ipam[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw configError(`ipam.${key} must be a list, got ${JSON.stringify(value)}`);
  return value.map((entry, index) => {
    const item = record(entry);
    if (item === undefined) throw configError(`ipam.${key}[${index}] must be an object, got ${JSON.stringify(entry)}`);
    return item;
  });
}

function codeOf(item: Record<string, unknown>, where: string): number {
  const option = item['option'];
  if (typeof option !== 'string' || option === '') throw configError(`${where}: "option" must be an option name or code`);
  const code = optionCode(option);
  if (code === undefined) {
    throw configError(`${where}: unknown dhcp option "${option}" (use a code 1-254 or one of dhcp-client-identifier, subnet-mask, routers, host-name, user-class, vendor-class-identifier)`);
  }
  return code;
}

/**
 * Read and validate the plugin's keys under `ipam`: `daemonSocketPath`, `priority`,
 * `request [{option, skipDefault}]` and `provide [{option, value | fromArg}]`.
 * Option names are upstream's or decimal codes; anything else is refused, naming the entry.
 *
 * @throws DhcpError code 7 naming the offending key.
 */
export function loadDhcpConfig(input: DhcpConfigInput): DhcpConfig {
  const ipam = record(input.conf['ipam']);
  if (ipam === undefined) throw configError("IPAM config missing 'ipam' key");
  const name = typeof input.conf['name'] === 'string' ? input.conf['name'] : '';
  const socket = ipam['daemonSocketPath'];
  if (socket !== undefined && (typeof socket !== 'string' || socket === '')) {
    throw configError(`ipam.daemonSocketPath must be a path, got ${JSON.stringify(socket)}`);
  }
  const priority = ipam['priority'];
  if (priority !== undefined && (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 0xffffffff)) {
    throw configError(`ipam.priority must be a route metric (0-4294967295), got ${JSON.stringify(priority)}`);
  }

  let skipDefault = false;
  const requested: number[] = [];
  listOf(ipam, 'request').forEach((item, index) => {
    requested.push(codeOf(item, `ipam.request[${index}]`));
    const skip = item['skipDefault'];
    if (skip !== undefined && skip !== null && typeof skip !== 'boolean') {
      throw configError(`invalid ipam.request[${index}].skipDefault ${JSON.stringify(skip)}, must be a boolean`);
    }
    if (skip === true) skipDefault = true;
  });
  const requestList = [...new Set([...(skipDefault ? [] : DEFAULT_REQUEST_LIST), ...requested])];

  const provide = new Map<number, Buffer>();
  listOf(ipam, 'provide').forEach((item, index) => {
    const where = `ipam.provide[${index}]`;
    const code = codeOf(item, where);
    const { value, fromArg } = item;
    if ((value === undefined) === (fromArg === undefined)) throw configError(`${where}: give exactly one of "value" and "fromArg"`);
    let text: string | undefined;
    if (value !== undefined) {
      if (typeof value !== 'string') throw configError(`${where}: "value" must be a string`);
      text = value;
    } else {
      if (typeof fromArg !== 'string' || fromArg === '') throw configError(`${where}: "fromArg" must name a CNI_ARGS key`);
      text = input.args[fromArg];
    }
    if (text === undefined) return; // upstream skips an option whose CNI_ARGS key is absent
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > 255) throw configError(`${where}: the value of option ${code} is ${bytes.length} bytes, over 255`);
    provide.set(code, bytes);
  });
  if (!provide.has(DHCP_OPTION.CLIENT_ID)) provide.set(DHCP_OPTION.CLIENT_ID, defaultClientId(input.containerId, name, input.ifName));

  return {
    name,
    daemonSocketPath: typeof socket === 'string' ? socket : DEFAULT_SOCKET_PATH,
    priority: priority as number | undefined,
    requestList,
    provide,
  };
}
