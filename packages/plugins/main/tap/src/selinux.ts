// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { withNetns } from '@cni/netns';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';

/** Where SELinux is enabled, its filesystem is mounted here (go-selinux's test as well). */
export const SELINUXFS = '/sys/fs/selinux';

/** Where a thread's label for its next exec lives. */
const EXEC_ATTR = '/proc/thread-self/attr/exec';

/** Options of {@link createTapWithLabel}. */
export interface LabelledTap {
  readonly name: string;
  readonly multiQueue: boolean;
  readonly owner: number | undefined;
  readonly group: number | undefined;
}

/**
 * Create the tap as upstream does with `selinuxContext`: `ip tuntap add` executed under that label
 * (the thread's exec label, set just before and cleared after), inside the container's namespace, so
 * the device's creator is labelled as the VM runtime expects. Where SELinux is not enabled, the label
 * cannot be applied and the request fails saying so, rather than creating an unlabelled device.
 */
export function createTapWithLabel(netns: string, context: string, tap: LabelledTap, selinuxfs = SELINUXFS): void {
  if (!existsSync(`${selinuxfs}/enforce`)) {
    throw new CniError(
      CNI_ERROR_CODES.INTERNAL,
      `failed to apply selinuxContext "${context}": SELinux is not enabled on this host (no ${selinuxfs}/enforce)`,
    );
  }
  const argv = ['tuntap', 'add', 'mode', 'tap', 'name', tap.name];
  if (tap.multiQueue) argv.push('multi_queue');
  if (tap.owner !== undefined) argv.push('user', String(tap.owner));
  if (tap.group !== undefined) argv.push('group', String(tap.group));
  // Synchronous on purpose: the label is the calling thread's, and the child must fork from the
  // thread while it is inside the container's namespace.
  const output = withNetns(netns, () => {
    try {
      writeFileSync(EXEC_ATTR, context);
    } catch (error) {
      throw new Error(`failed set socket label: ${(error as Error).message}`, { cause: error });
    }
    try {
      return spawnSync('ip', argv, { encoding: 'utf8' });
    } finally {
      try {
        writeFileSync(EXEC_ATTR, '');
      } catch {
        // The label is consumed by the exec anyway; an empty write only tidies up.
      }
    }
  });
  if (output.error || output.status !== 0) {
    throw new Error(`failed to run command ip ${argv.join(' ')}: ${(output.stderr || output.error?.message || '').trim()}`);
  }
}
