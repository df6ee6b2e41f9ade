// SPDX-License-Identifier: Apache-2.0
// Where our answer to a malformed request may differ from Debian's reference (v1.1.1): the
// deliberate differences (docs/bad-input.md lists each), and the known failures of plugins whose
// strict loadConf is being written on another branch (h/kit): remove those entries once it merges.
import { formatPath, type FuzzCase } from '@cni/testkit';

/** A rule matching requests the reference refuses and we accept, with the reason. */
export interface Difference {
  /** The plugin's type, or '*' for every plugin. */
  readonly plugin: string;
  /** Matches the formatted path of the changed key (`ipam.routes[0].dst`), the case's label, or the reference's message. */
  readonly path?: RegExp;
  readonly label?: RegExp;
  readonly referenceMsg?: RegExp;
  readonly why: string;
}

/** Deliberate: upstream changed since v1.1.1, or we read the request in a way docs/bad-input.md explains. */
export const DELIBERATE: readonly Difference[] = [
  {
    plugin: 'host-local',
    path: /subnet$/,
    referenceMsg: /address 01: invalid IP address|\?01-ffff/,
    why: 'a /0 range: v1.1.1 computes its first address wrongly (prints "01" or "?01"); ours allocates 0.0.0.1 or ::1',
  },
  {
    plugin: 'portmap',
    path: /portMappings\[\d+\]\.protocol$/,
    label: /= null/,
    referenceMsg: /unknown protocol ""/,
    why: 'a null protocol: v1.1.1 hands iptables an empty protocol, which fails after its chains exist; ours reads null as not set, as for every key',
  },
  {
    plugin: 'multinet',
    path: /^(system|global)Namespaces$/,
    label: /= "/,
    why: "a string for a namespace list: Multus' comma-separated form, which multinet reads as Multus does (docs/multinet.md)",
  },
];

/**
 * Known failures: a main or meta plugin ignores a value of the wrong type that the reference
 * refuses (`json: cannot unmarshal ...`). Their loadConf is made strict on branch h/kit; each
 * entry names the plugin and the key.
 */
export const KNOWN_FAILURES: readonly Difference[] = [];

/** The rule that explains why we accept what the reference refuses, or undefined. */
export function explain(rules: readonly Difference[], plugin: string, fuzzCase: FuzzCase, referenceMsg: string): Difference | undefined {
  const paths = fuzzCase.paths.map(formatPath);
  return rules.find(
    (rule) =>
      (rule.plugin === '*' || rule.plugin === plugin) &&
      (rule.path === undefined || paths.some((path) => rule.path!.test(path))) &&
      (rule.label === undefined || rule.label.test(fuzzCase.label)) &&
      (rule.referenceMsg === undefined || rule.referenceMsg.test(referenceMsg)),
  );
}
