// SPDX-License-Identifier: Apache-2.0
import { DhcpPacketError } from './errors.ts';

/** DHCP option codes this package reads or writes (RFC 2132, 3442, 4361). */
export const DHCP_OPTION = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOST_NAME: 12,
  DOMAIN_NAME: 15,
  BROADCAST_ADDRESS: 28,
  STATIC_ROUTES: 33,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS_ID: 60,
  CLIENT_ID: 61,
  USER_CLASS: 77,
  CLASSLESS_ROUTES: 121,
  END: 255,
} as const;

/** DHCP message types (option 53). */
export const DHCP_MESSAGE_TYPE = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

/** The option names upstream's configuration accepts (`ipam.request`/`ipam.provide`), by code. */
export const OPTION_NAMES: Readonly<Record<string, number>> = Object.freeze({
  'dhcp-client-identifier': DHCP_OPTION.CLIENT_ID,
  'subnet-mask': DHCP_OPTION.SUBNET_MASK,
  routers: DHCP_OPTION.ROUTER,
  'host-name': DHCP_OPTION.HOST_NAME,
  'user-class': DHCP_OPTION.USER_CLASS,
  'vendor-class-identifier': DHCP_OPTION.VENDOR_CLASS_ID,
});

/**
 * The code of an option given by upstream's name or as a decimal code (`"121"`), or undefined
 * when it is neither. Codes 0 and 255 (pad, end) are not options.
 */
export function optionCode(name: string): number | undefined {
  const named = OPTION_NAMES[name];
  if (named !== undefined) return named;
  if (!/^\d{1,3}$/.test(name)) return undefined;
  const code = Number(name);
  return code >= 1 && code <= 254 ? code : undefined;
}

/** A route a DHCP server gives: destination in CIDR form, and its router (`0.0.0.0` for on-link). */
export interface DhcpRoute {
  readonly dst: string;
  readonly router: string;
}

/** Four bytes as a dotted quad. */
export function ipv4ToString(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** A dotted quad as four bytes. */
export function ipv4ToBytes(text: string): Buffer {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    throw new DhcpPacketError(`invalid IPv4 address "${text}"`);
  }
  return Buffer.from(parts.map(Number));
}

/** An option holding a list of IPv4 addresses (routers, DNS servers), decoded. */
export function decodeIpList(value: Uint8Array): string[] {
  if (value.length % 4 !== 0) throw new DhcpPacketError(`an address list of ${value.length} bytes is not a multiple of 4`);
  const out: string[] = [];
  for (let at = 0; at < value.length; at += 4) out.push(ipv4ToString(value, at));
  return out;
}

/** An option holding one IPv4 address, decoded. */
export function decodeIp(value: Uint8Array): string {
  if (value.length !== 4) throw new DhcpPacketError(`an address option of ${value.length} bytes, expected 4`);
  return ipv4ToString(value);
}

/** An option holding a 32-bit unsigned number (lease time, T1, T2), decoded. */
export function decodeUint32(value: Uint8Array): number {
  if (value.length !== 4) throw new DhcpPacketError(`a 32-bit option of ${value.length} bytes`);
  return Buffer.from(value.buffer, value.byteOffset, 4).readUInt32BE(0);
}

/** The prefix length of a contiguous netmask, or undefined for a non-contiguous one. */
export function maskToPrefix(mask: Uint8Array): number | undefined {
  if (mask.length !== 4) return undefined;
  const value = Buffer.from(mask.buffer, mask.byteOffset, 4).readUInt32BE(0);
  const prefix = 32 - Math.log2((~value >>> 0) + 1);
  return Number.isInteger(prefix) ? prefix : undefined;
}

function maskAddress(address: Uint8Array, prefix: number): string {
  const bytes = Buffer.from(address);
  for (let bit = prefix; bit < 32; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return ipv4ToString(bytes);
}

/**
 * Option 121 (RFC 3442): each route is a prefix length, the significant octets of the
 * destination, then the router. A router of 0.0.0.0 means the destination is on the link.
 */
export function decodeClasslessRoutes(value: Uint8Array): DhcpRoute[] {
  const routes: DhcpRoute[] = [];
  let at = 0;
  while (at < value.length) {
    const prefix = value[at]!;
    if (prefix > 32) throw new DhcpPacketError(`option 121: prefix length ${prefix} is over 32`);
    const significant = Math.ceil(prefix / 8);
    if (at + 1 + significant + 4 > value.length) throw new DhcpPacketError('option 121: a route runs past the end of the option');
    const dst = new Uint8Array(4);
    dst.set(value.subarray(at + 1, at + 1 + significant));
    const router = ipv4ToString(value, at + 1 + significant);
    routes.push({ dst: `${maskAddress(dst, prefix)}/${prefix}`, router });
    at += 1 + significant + 4;
  }
  return routes;
}

/** Option 121 encoded from routes (servers' side; the tests use it). */
export function encodeClasslessRoutes(routes: readonly DhcpRoute[]): Buffer {
  const parts: Buffer[] = [];
  for (const route of routes) {
    const [address = '', prefixText = ''] = route.dst.split('/');
    const prefix = Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new DhcpPacketError(`invalid route destination "${route.dst}"`);
    const significant = Math.ceil(prefix / 8);
    parts.push(Buffer.from([prefix]), ipv4ToBytes(address).subarray(0, significant), ipv4ToBytes(route.router));
  }
  return Buffer.concat(parts);
}

/** The classful mask length of an address, as option 33 destinations imply (RFC 2132 5.8). */
function classfulPrefix(first: number): number {
  if (first < 128) return 8;
  if (first < 192) return 16;
  return 24;
}

/** Option 33: pairs of (destination, router), destinations classful (a host route when host bits are set). */
export function decodeStaticRoutes(value: Uint8Array): DhcpRoute[] {
  if (value.length % 8 !== 0) throw new DhcpPacketError(`option 33 of ${value.length} bytes is not a multiple of 8`);
  const routes: DhcpRoute[] = [];
  for (let at = 0; at < value.length; at += 8) {
    const dst = value.subarray(at, at + 4);
    const prefix = classfulPrefix(dst[0]!);
    const hostBits = maskAddress(dst, prefix) !== ipv4ToString(dst);
    routes.push({ dst: `${ipv4ToString(dst)}/${hostBits ? 32 : prefix}`, router: ipv4ToString(value, at + 4) });
  }
  return routes;
}

/** Option 61 as upstream sends it when none is provided: type 0, then `<containerID>/<network>/<ifName>`. */
export function defaultClientId(containerId: string, networkName: string, ifName: string): Buffer {
  const text = Buffer.from(`${containerId}/${networkName}/${ifName}`, 'utf8').subarray(0, 254);
  return Buffer.concat([Buffer.from([0]), text]);
}
