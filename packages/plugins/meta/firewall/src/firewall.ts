// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { versionsStartingFrom } from '@cni/spec';
import { cmdAdd } from './cmd-add.ts';
import { cmdCheck } from './cmd-check.ts';
import { cmdDel } from './cmd-del.ts';
import { cmdGc } from './cmd-gc.ts';

/**
 * The firewall plugin: forwarding to and from the container allowed through iptables or firewalld,
 * and bridge ingress isolation. Spec 0.4.0 and later, as upstream. Keys and behaviour:
 * docs/plugins/meta/firewall.md.
 */
export const firewall = definePlugin({
  name: 'firewall',
  versions: versionsStartingFrom('0.4.0'),
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  gc: cmdGc,
});
