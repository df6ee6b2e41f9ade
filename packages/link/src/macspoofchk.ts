// SPDX-License-Identifier: Apache-2.0
// The MAC spoof check recipe of bridge (`macspoofchk`): an nftables bridge-family chain per port.
import {
  applyWithRetry,
  explainUnavailable,
  NetfilterValidationError,
  Nftables,
  validateContainerId,
  validateInterfaceName,
  validateMac,
  type CommandRunner,
  type NftChain,
  type NftCommand,
  type NftListing,
  type NftRule,
  type NftStatement,
} from '@cni/netfilter';
import type { AttachmentRef } from './masquerade.ts';
import { macSpoofCheckChain, macSpoofCheckComment, macSpoofCheckRefId } from './netfilter-names.ts';

/** The table (family `bridge`) holding the macspoofchk chains, shared with ebtables-nft's nat table. */
export const MAC_SPOOF_CHECK_TABLE = 'nat';
/** Its base chain: filter type, prerouting hook, priority -300. */
export const MAC_SPOOF_CHECK_BASE_CHAIN = 'PREROUTING';

/** A bridge port to protect: frames entering from `hostIfName` must carry `mac` as source. */
export interface MacSpoofCheckAttachment extends AttachmentRef {
  /** The host side of the container's veth, the bridge port. */
  hostIfName: string;
  /** The container interface's MAC address. */
  mac: string;
}

/** macspoofchk state found on the host. */
export interface MacSpoofCheckEntry {
  /** `<containerID>-<ifname>`; container IDs and interface names may both hold `-`, so it is not split. */
  refId: string;
  /** The chains of the entry that exist. */
  chains: string[];
  /** The bridge port the PREROUTING rule matches, when that rule exists. */
  hostIfName: string | undefined;
  /** The allowed source MAC, when that rule exists. */
  mac: string | undefined;
}

/** Options of the macspoofchk functions. */
export interface MacSpoofCheckOptions {
  runner?: CommandRunner;
}

const tableRef = { family: 'bridge', name: MAC_SPOOF_CHECK_TABLE } as const;
const chainRef = (name: string): NftChain => ({ family: 'bridge', table: MAC_SPOOF_CHECK_TABLE, name });
const rule = (chain: string, comment: string, expr: NftStatement[]): NftCommand => ({
  add: { rule: { family: 'bridge', table: MAC_SPOOF_CHECK_TABLE, chain, comment, expr } },
});
const deleteRule = (r: NftRule): NftCommand => ({
  delete: { rule: { family: 'bridge', table: MAC_SPOOF_CHECK_TABLE, chain: r.chain, handle: r.handle! } },
});

function refIdOf(ref: AttachmentRef): string {
  return macSpoofCheckRefId(validateContainerId(ref.containerId), validateInterfaceName(ref.ifName, 'container interface name'));
}

function jumpTarget(r: NftRule): string | undefined {
  for (const statement of r.expr ?? []) {
    const jump = statement.jump as { target?: string } | undefined;
    if (jump?.target) return jump.target;
  }
  return undefined;
}

function listTable(nft: Nftables): Promise<NftListing> {
  return nft.list(['table', 'bridge', MAC_SPOOF_CHECK_TABLE]);
}

/** The commands removing one entry's base-chain rules and chains from a listing. */
function teardownCommands(listing: NftListing, refId: string): NftCommand[] {
  const ifaceChain = macSpoofCheckChain(refId);
  const macChain = `${ifaceChain}-mac`;
  const comment = macSpoofCheckComment(refId);
  const commands: NftCommand[] = listing.rules
    .filter((r) => r.chain === MAC_SPOOF_CHECK_BASE_CHAIN && (r.comment === comment || jumpTarget(r) === ifaceChain))
    .map(deleteRule);
  // The interface chain jumps to the MAC chain, so it goes first.
  for (const name of [ifaceChain, macChain]) {
    if (listing.chains.some((c) => c.name === name)) {
      commands.push({ flush: { chain: chainRef(name) } }, { delete: { chain: chainRef(name) } });
    }
  }
  return commands;
}

/**
 * Drop frames from the bridge port whose source MAC is not the container's: table
 * `bridge nat`, base chain `PREROUTING`, `iifname <port> jump cni-br-iface-<refId>`, which
 * jumps to `cni-br-iface-<refId>-mac` holding `ether saddr <mac> return` and `drop`, every rule
 * commented `macspoofchk-<refId>` (upstream's `SpoofChecker.Setup`). One nft transaction;
 * running it again replaces the entry instead of adding a second base-chain rule.
 */
export async function setupMacSpoofCheck(attachment: MacSpoofCheckAttachment, options: MacSpoofCheckOptions = {}): Promise<void> {
  const refId = refIdOf(attachment);
  const hostIfName = validateInterfaceName(attachment.hostIfName, 'host interface name');
  const mac = validateMac(attachment.mac);
  const nft = new Nftables(options);
  const ifaceChain = macSpoofCheckChain(refId);
  const macChain = `${ifaceChain}-mac`;
  const comment = macSpoofCheckComment(refId);
  await applyWithRetry(nft, async () => {
    const listing = await listTable(nft);
    const stale = listing.rules.filter((r) => r.chain === MAC_SPOOF_CHECK_BASE_CHAIN && r.comment === comment);
    return [
      { add: { table: tableRef } },
      { add: { chain: { ...chainRef(MAC_SPOOF_CHECK_BASE_CHAIN), type: 'filter', hook: 'prerouting', prio: -300, policy: 'accept' } } },
      { add: { chain: chainRef(ifaceChain) } },
      { add: { chain: chainRef(macChain) } },
      { flush: { chain: chainRef(ifaceChain) } },
      { flush: { chain: chainRef(macChain) } },
      ...stale.map(deleteRule),
      rule(MAC_SPOOF_CHECK_BASE_CHAIN, comment, [
        { match: { op: '==', left: { meta: { key: 'iifname' } }, right: hostIfName } },
        { jump: { target: ifaceChain } },
      ]),
      rule(ifaceChain, comment, [{ jump: { target: macChain } }]),
      rule(macChain, comment, [
        { match: { op: '==', left: { payload: { protocol: 'ether', field: 'saddr' } }, right: mac } },
        { return: null },
      ]),
      rule(macChain, comment, [{ drop: null }]),
    ];
  }).catch(async (error: unknown) => {
    throw await explainUnavailable('nftables', error, options);
  });
}

/**
 * Remove the attachment's base-chain rule and its two chains; the table and base chain stay
 * (upstream's `SpoofChecker.Teardown`). Succeeds when nothing is there. Accepts an
 * {@link AttachmentRef} or a `refId` from {@link listMacSpoofChecks}.
 */
export async function teardownMacSpoofCheck(ref: AttachmentRef | { refId: string }, options: MacSpoofCheckOptions = {}): Promise<void> {
  const refId = 'refId' in ref ? checkRefId(ref.refId) : refIdOf(ref);
  const nft = new Nftables(options);
  await applyWithRetry(nft, async () => teardownCommands(await listTable(nft), refId));
}

function checkRefId(refId: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*-[^\s/:"'\\*]+$/.test(refId)) {
    throw new NetfilterValidationError('macspoofchk reference', refId, 'must be "<containerID>-<ifname>"');
  }
  return refId;
}

const CHAIN_PREFIX = macSpoofCheckChain('');

function entriesOf(listing: NftListing): MacSpoofCheckEntry[] {
  const entries = new Map<string, MacSpoofCheckEntry>();
  const entry = (refId: string) => {
    let found = entries.get(refId);
    if (!found) entries.set(refId, (found = { refId, chains: [], hostIfName: undefined, mac: undefined }));
    return found;
  };
  const prefix = macSpoofCheckComment('');
  for (const r of listing.rules) {
    if (!r.comment?.startsWith(prefix)) continue;
    const found = entry(r.comment.slice(prefix.length));
    for (const statement of r.expr ?? []) {
      const match = statement.match as { left?: Record<string, { key?: string; field?: string }>; right?: unknown } | undefined;
      if (typeof match?.right !== 'string') continue;
      if (match.left?.meta?.key === 'iifname') found.hostIfName = match.right;
      if (match.left?.payload?.field === 'saddr') found.mac = match.right;
    }
  }
  // Chains without rules (a setup cut short) are found by name; a `-mac` chain belongs to the
  // chain named without the suffix when that exists or is already known.
  const names = new Set(listing.chains.map((c) => c.name));
  for (const name of names) {
    if (!name.startsWith(CHAIN_PREFIX)) continue;
    const base = name.endsWith('-mac') ? name.slice(0, -4) : undefined;
    const refId =
      base !== undefined && (names.has(base) || entries.has(base.slice(CHAIN_PREFIX.length)))
        ? base.slice(CHAIN_PREFIX.length)
        : name.slice(CHAIN_PREFIX.length);
    entry(refId);
  }
  for (const found of entries.values()) {
    const iface = macSpoofCheckChain(found.refId);
    found.chains = [iface, `${iface}-mac`].filter((name) => names.has(name));
  }
  return [...entries.values()];
}

/** Every macspoofchk entry in `bridge nat`, found by rule comments and chain names. */
export async function listMacSpoofChecks(options: MacSpoofCheckOptions = {}): Promise<MacSpoofCheckEntry[]> {
  return entriesOf(await listTable(new Nftables(options)));
}

/** Options of {@link gcMacSpoofChecks}. */
export interface MacSpoofCheckGcOptions extends MacSpoofCheckOptions {
  /**
   * Which entries this GC may remove. The entries name no network, so a plugin must say which
   * are its own (for bridge: those whose port is enslaved to its bridge, or is gone); without
   * it every entry not in `valid` is removed.
   */
  owns?: (entry: MacSpoofCheckEntry) => boolean | Promise<boolean>;
}

/** Remove the entries not in `valid` (and owned, see {@link MacSpoofCheckGcOptions.owns}) in one transaction; returns them. */
export async function gcMacSpoofChecks(valid: readonly AttachmentRef[], options: MacSpoofCheckGcOptions = {}): Promise<MacSpoofCheckEntry[]> {
  const keep = new Set(valid.map((v) => macSpoofCheckRefId(v.containerId, v.ifName)));
  const nft = new Nftables(options);
  let removed: MacSpoofCheckEntry[] = [];
  await applyWithRetry(nft, async () => {
    const listing = await listTable(nft);
    removed = [];
    for (const found of entriesOf(listing)) {
      if (keep.has(found.refId)) continue;
      if (options.owns && !(await options.owns(found))) continue;
      removed.push(found);
    }
    return removed.flatMap((found) => teardownCommands(listing, found.refId));
  });
  return removed;
}
