// SPDX-License-Identifier: Apache-2.0
import type { Netlink } from '@cni/netlink';
import type { GcAttachment, NetConf } from '@cni/spec';

/**
 * Host veths carry an alias naming their attachment, `cni/<plugin>/<network>/<containerID>/<ifname>`,
 * so that GC can tell which were left behind by an ADD whose DEL never came. None of the parts
 * can hold a `/` (network names and container IDs are `[a-zA-Z0-9_.-]`, interface names have no
 * `/`), and the kernel keeps up to 255 bytes. Upstream sets no alias; nothing else reads it.
 */
export function attachmentAlias(plugin: string, network: string, containerId: string, ifName: string): string {
  return `cni/${plugin}/${network}/${containerId}/${ifName}`;
}

/** The attachment an alias made by {@link attachmentAlias} names, or undefined for any other alias. */
export function parseAttachmentAlias(alias: string | undefined, plugin: string): { network: string; containerId: string; ifName: string } | undefined {
  if (alias === undefined) return undefined;
  const parts = alias.split('/');
  if (parts.length !== 5 || parts[0] !== 'cni' || parts[1] !== plugin) return undefined;
  const [, , network, containerId, ifName] = parts as [string, string, string, string, string];
  return { network, containerId, ifName };
}

/** The attachments GC must keep: `cni.dev/valid-attachments`, or its older alias `cni.dev/attachments`. */
export function validAttachments(conf: NetConf): GcAttachment[] {
  const list = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'] ?? [];
  return Array.isArray(list) ? list : [];
}

/**
 * Delete the host veths of `network` made by `plugin` whose attachment is not in `valid`; returns
 * their names. Deleting a veth deletes its peer, so a container that still exists loses the
 * interface the runtime no longer knows about.
 */
export async function gcHostVeths(host: Netlink, plugin: string, network: string, valid: readonly GcAttachment[]): Promise<string[]> {
  const keep = new Set(valid.map((attachment) => `${attachment.containerID}/${attachment.ifname}`));
  const removed: string[] = [];
  for (const link of await host.link.list()) {
    if (link.kind !== 'veth') continue;
    const owner = parseAttachmentAlias(link.alias, plugin);
    if (!owner || owner.network !== network || keep.has(`${owner.containerId}/${owner.ifName}`)) continue;
    try {
      await host.link.del({ index: link.index });
      removed.push(link.name);
    } catch (error) {
      // Gone meanwhile (its namespace was removed): that is what GC wanted.
      if (!(error as { tag?: string }).tag || (error as { tag?: string }).tag !== 'NotFound') throw error;
    }
  }
  return removed;
}
