// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc } from './cmd-gc.ts';

/**
 * The tuning meta plugin: sysctls and link attributes of the container interface, the originals
 * kept in dataDir and restored on DEL, compared on CHECK, and backups of vanished attachments
 * removed on GC. Keys and behaviour: docs/plugins/meta/tuning.md.
 */
export const tuning = definePlugin({
  name: 'tuning',
  versions: ALL_SPEC_VERSIONS,
  add: (request) => cmdAdd(request),
  del: cmdDel,
  check: (request) => cmdCheck(request),
  gc: cmdGc,
});
