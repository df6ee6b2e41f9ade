// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError, isValidName } from '@cni/spec';

/** The verbs of the CNI protocol. */
export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

/** The verbs that carry a network configuration on stdin (all but VERSION). */
export type ConfigCommand = Exclude<CniCommand, 'VERSION'>;

/** The environment a plugin runs with, as `process.env` holds it. */
export type PluginEnv = Readonly<Record<string, string | undefined>>;

/** The CNI variables of a request, read and validated by {@link readCniEnvironment}. */
export interface CniEnvironment {
  /** CNI_COMMAND as given; not necessarily a known verb (skel reports that later, as upstream does). */
  command: string;
  containerId: string;
  netns: string;
  ifName: string;
  args: string;
  path: string;
  netnsOverride: string;
}

type Validator = (value: string) => CniError | undefined;

interface VariableRule {
  name: string;
  key: keyof CniEnvironment;
  requiredFor: readonly string[];
  validate?: Validator;
}

const maxInterfaceNameLength = 15;

// Go's unicode.IsSpace set, written out: JS's \s also holds U+FEFF, which Go does not count.
const forbiddenInName = /[/:\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/** Upstream's `utils.ValidateContainerID`, with its texts and codes. */
export function validateContainerId(containerId: string): CniError | undefined {
  if (containerId === '') return new CniError(CNI_ERROR_CODES.UNKNOWN_CONTAINER, 'missing containerID');
  if (!isValidName(containerId)) {
    return new CniError(CNI_ERROR_CODES.INVALID_ENVIRONMENT_VARIABLES, 'invalid characters in containerID', {
      details: containerId,
    });
  }
  return undefined;
}

/**
 * Upstream's `utils.ValidateInterfaceName` (the kernel's `dev_valid_name`): not empty, at most 15
 * bytes, not `.` or `..`, no `/`, `:` or whitespace. All code 4.
 */
export function validateInterfaceName(ifName: string): CniError | undefined {
  const invalid = (message: string, details?: string) =>
    new CniError(CNI_ERROR_CODES.INVALID_ENVIRONMENT_VARIABLES, message, details === undefined ? {} : { details });
  if (ifName.length === 0) return invalid('interface name is empty');
  // Go's len() counts bytes, and so does the kernel's IFNAMSIZ.
  if (Buffer.byteLength(ifName, 'utf8') > maxInterfaceNameLength) {
    return invalid('interface name is too long', `interface name should be less than ${maxInterfaceNameLength + 1} characters`);
  }
  if (ifName === '.' || ifName === '..') return invalid('interface name is . or ..');
  if (forbiddenInName.test(ifName)) return invalid('interface name contains / or : or whitespace characters');
  return undefined;
}

// Upstream's table, in its order: the order decides which error wins when several apply.
const rules: readonly VariableRule[] = [
  { name: 'CNI_COMMAND', key: 'command', requiredFor: ['ADD', 'CHECK', 'DEL', 'GC', 'STATUS'] },
  { name: 'CNI_CONTAINERID', key: 'containerId', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateContainerId },
  { name: 'CNI_NETNS', key: 'netns', requiredFor: ['ADD', 'CHECK'] },
  { name: 'CNI_IFNAME', key: 'ifName', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateInterfaceName },
  { name: 'CNI_ARGS', key: 'args', requiredFor: [] },
  { name: 'CNI_PATH', key: 'path', requiredFor: ['ADD', 'CHECK', 'DEL', 'GC', 'STATUS'] },
  { name: 'CNI_NETNS_OVERRIDE', key: 'netnsOverride', requiredFor: [] },
];

/**
 * Read the CNI variables as upstream's skel does (`getCmdArgsFromEnv`): a variable a verb needs
 * and that is empty is listed in one code-4 error, `required env variables [A,B] missing`; a
 * variable that is set is validated (container ID, interface name) only for the verbs that need
 * it, and the first invalid one is reported at once, before the missing ones.
 *
 * Throws a CniError; never anything else.
 */
export function readCniEnvironment(env: PluginEnv): CniEnvironment {
  const values: Record<string, string> = {};
  const command = env.CNI_COMMAND ?? '';
  const missing: string[] = [];
  for (const rule of rules) {
    const value = env[rule.name] ?? '';
    values[rule.key] = value;
    const required = rule.requiredFor.includes(command);
    if (value === '') {
      if (required || rule.name === 'CNI_COMMAND') missing.push(rule.name);
    } else if (required && rule.validate) {
      const error = rule.validate(value);
      if (error) throw error;
    }
  }
  if (missing.length > 0) {
    throw new CniError(CNI_ERROR_CODES.INVALID_ENVIRONMENT_VARIABLES, `required env variables [${missing.join(',')}] missing`);
  }
  return values as unknown as CniEnvironment;
}

/** True when CNI_NETNS_OVERRIDE asks to skip the netns check: `1` or `true` in any case. */
export function isNetnsOverride(value: string): boolean {
  return value === '1' || value.toUpperCase() === 'TRUE';
}

/** CNI_PATH as a list of folders, empty entries dropped. */
export function splitCniPath(path: string): string[] {
  return path.split(':').filter((dir) => dir !== '');
}
