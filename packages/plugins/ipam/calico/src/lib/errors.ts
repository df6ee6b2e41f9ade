// SPDX-License-Identifier: Apache-2.0

/** Why an IPAM operation failed. */
export type IpamErrorKind = 'exhausted' | 'no-pool' | 'in-use' | 'not-in-pool' | 'conflict' | 'invalid';

/** An IPAM operation the datastore answered but that cannot be done (no address left, address taken, ...). */
export class IpamError extends Error {
  override readonly name = 'IpamError';
  constructor(
    readonly kind: IpamErrorKind,
    message: string,
  ) {
    super(message);
  }
}
