// SPDX-License-Identifier: Apache-2.0
export { IpError } from './errors.ts';
export type { IpErrorOptions } from './errors.ts';

export { IpAddress, parseIp, tryParseIp, isIpv4, isIpv6, ipCompare, nextIp, prevIp, ipAdd } from './address.ts';
export type { IpFamily } from './address.ts';

export {
  Cidr,
  parseCidr,
  tryParseCidr,
  parseIpOrCidr,
  formatCidr,
  maskFromPrefix,
  prefixFromMask,
} from './cidr.ts';

export { IpRange, ipInRange, isAllocatable, allocatableRange, defaultGateway } from './range.ts';
export type { RangeBounds } from './range.ts';
