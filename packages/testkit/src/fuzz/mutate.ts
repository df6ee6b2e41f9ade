// SPDX-License-Identifier: Apache-2.0
// Malformed requests derived from a plugin's valid ones: every key dropped, every value replaced by
// each JSON type it is not, numbers out of range, huge and odd strings, bad addresses, bad CNI
// variables, plus seeded random combinations of those (fast-check). Deterministic: the same seed
// gives the same cases, so a failure names a case that can be run again.
import fc from 'fast-check';

/** A JSON path: object keys and array indexes from the configuration's root. */
export type JsonPath = readonly (string | number)[];

/** One malformed request: the configuration and the CNI variables to change, and a name for reports. */
export interface FuzzCase {
  /** What was changed, e.g. `ipam.routes[0].dst = "10.0.0.256"` or `CNI_IFNAME = "eth0:1"`. */
  readonly label: string;
  /** The configuration to send. */
  readonly conf: Record<string, unknown>;
  /** CNI variables to set (a value) or unset (undefined) for this case. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The paths changed in `conf` (empty for a change of the variables only). */
  readonly paths: readonly JsonPath[];
  /**
   * True when the case puts a value of another JSON type (not null, not a dropped key) at a key
   * the valid configuration has: a plugin must refuse it (code 7), never ignore it.
   */
  readonly wrongType?: boolean;
}

/** The JSON type of a value: `null`, `array`, `object`, `string`, `number` or `boolean`. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Options of {@link fuzzCases}. */
export interface FuzzCaseOptions {
  /** The seed of the random part; printed with every failure. */
  seed: number;
  /** How many random combinations (two or three changes at once) to add. Default 40. */
  combinations?: number;
  /** At most this many cases in all (the systematic ones are thinned evenly past it). Default 300. */
  limit?: number;
  /**
   * Paths whose values must not become arbitrary strings: folders and files the plugin writes
   * (a dataDir of "x" would write under the test's working folder). Wrong non-string types are
   * still tried. Default: every key whose name ends in Dir, Path, File or Conf, or is `dataDir`.
   */
  isPathKey?: (path: JsonPath) => boolean;
  /** Paths left alone entirely (e.g. `type`, which picks the plugin, and `cniVersion` handled by skel's own tests). */
  skip?: (path: JsonPath) => boolean;
  /** Extra values to try at a path (e.g. names of links that exist), besides the generic ones. */
  extraValues?: (path: JsonPath, value: unknown) => readonly unknown[];
  /** Add the CNI variable cases. Default true. */
  variables?: boolean;
}

/** Values of every JSON type, to put where another type is expected. */
export const WRONG_TYPES: readonly unknown[] = [null, true, false, 0, -1, 1.5, '', 'x', [], [1], ['x'], {}, { a: 1 }];

/** Numbers a plugin must refuse or handle: negative, fractional, past int32, uint32 and 2^53. */
export const ODD_NUMBERS: readonly number[] = [-1, -2147483649, 0.5, 2147483648, 4294967296, 9007199254740993, 1e308, -1e308];

/** Strings that are nearly addresses, or are addresses a plugin may not expect. */
export const BAD_ADDRESSES: readonly string[] = [
  '10.0.0.256',
  '10.0.0.1/33',
  '10.0.0.0/8/8',
  '1.2.3',
  ' 10.0.0.1',
  '10.0.0.1 ',
  '::ffff:10.0.0.1',
  'fe80::1%eth0',
  '2001:db8::/129',
  '0.0.0.0/0',
  '::/0',
  '255.255.255.255',
  '224.0.0.1/4',
];

/** Strings odd in length, encoding or meaning. */
export const ODD_STRINGS: readonly string[] = [
  'a'.repeat(16),
  'eth0:1',
  'eth 0',
  '../../x',
  '\u0000',
  '\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9',
  '\ud83d\ude00',
  '-1',
  'true',
  'null',
  'x'.repeat(4096),
];

/** Changes of the CNI variables: what a broken runtime may send. */
export const BAD_VARIABLES: readonly Readonly<Record<string, string | undefined>>[] = [
  { CNI_IFNAME: '' },
  { CNI_IFNAME: 'a'.repeat(16) },
  { CNI_IFNAME: 'eth0:1' },
  { CNI_IFNAME: 'eth/0' },
  { CNI_IFNAME: '..' },
  { CNI_IFNAME: 'lo' },
  { CNI_CONTAINERID: 'a/b' },
  { CNI_CONTAINERID: '-x' },
  { CNI_CONTAINERID: undefined },
  { CNI_NETNS: '/var/run/netns/cnifuzz-does-not-exist' },
  { CNI_NETNS: '/tmp' },
  { CNI_NETNS: 'relative/path' },
  { CNI_ARGS: 'IP=10.0.0.256' },
  { CNI_ARGS: 'FOO' },
  { CNI_ARGS: '=;;=' },
  { CNI_ARGS: 'IgnoreUnknown=1;IP=not-an-ip' },
  { CNI_ARGS: 'IgnoreUnknown=maybe;X=1' },
  { CNI_PATH: undefined },
];

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** `ipam.routes[0].dst` */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

/** Every path in a JSON value, parents before children. */
export function pathsOf(value: unknown, prefix: JsonPath = []): JsonPath[] {
  const out: JsonPath[] = [];
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      out.push([...prefix, index], ...pathsOf(item, [...prefix, index]));
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) out.push([...prefix, key], ...pathsOf(item, [...prefix, key]));
  }
  return out;
}

function getAt(root: unknown, path: JsonPath): unknown {
  let at: unknown = root;
  for (const part of path) at = (at as Record<string | number, unknown>)[part];
  return at;
}

/** A copy of `root` with the value at `path` replaced, or removed when `value` is `DROP`. */
function setAt(root: Record<string, unknown>, path: JsonPath, value: unknown): Record<string, unknown> {
  const copy = clone(root);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown> | unknown[];
  const last = path[path.length - 1]!;
  if (value === DROP) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete (parent as Record<string, unknown>)[last as string];
  } else {
    (parent as Record<string | number, unknown>)[last] = clone(value);
  }
  return copy;
}

const DROP = Symbol('drop');

function show(value: unknown): string {
  if (value === DROP) return '<dropped>';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function defaultIsPathKey(path: JsonPath): boolean {
  const key = path[path.length - 1];
  return typeof key === 'string' && /(Dir|Path|File|Conf|dir|path|file|kubeconfig)$/.test(key);
}

/** The replacement values tried at one path, by the type of the valid value there. */
function replacements(path: JsonPath, value: unknown, options: FuzzCaseOptions): unknown[] {
  const isPath = (options.isPathKey ?? defaultIsPathKey)(path);
  const out: unknown[] = [DROP];
  for (const wrong of WRONG_TYPES) {
    if (typeof wrong === 'string' && isPath) continue;
    if (typeof wrong === typeof value && Array.isArray(wrong) === Array.isArray(value) && (wrong === null) === (value === null)) continue;
    out.push(wrong);
  }
  if (typeof value === 'number') out.push(...ODD_NUMBERS);
  if (typeof value === 'string' && !isPath) {
    out.push(...(/^[0-9a-f.:]+(\/\d+)?$/i.test(value) && /[.:]/.test(value) ? BAD_ADDRESSES : ODD_STRINGS.slice(0, 6)));
  }
  out.push(...(options.extraValues?.(path, value) ?? []));
  return out;
}

/**
 * The malformed requests derived from one valid configuration: for each path (but skipped ones),
 * the key dropped and its value replaced by every other JSON type and by odd numbers, strings
 * and addresses; then `combinations` seeded random cases changing two or three paths at once;
 * then every {@link BAD_VARIABLES} change on the valid configuration.
 *
 * @example
 * ```ts
 * for (const c of fuzzCases(conf, { seed: 22 })) await runOne(c);
 * ```
 */
export function fuzzCases(valid: Record<string, unknown>, options: FuzzCaseOptions): FuzzCase[] {
  const skip = options.skip ?? ((path: JsonPath) => path.length === 1 && (path[0] === 'type' || path[0] === 'cniVersion' || path[0] === 'name'));
  const paths = pathsOf(valid).filter((path) => !skip(path));
  const systematic: FuzzCase[] = [];
  for (const path of paths) {
    const current = getAt(valid, path);
    for (const value of replacements(path, current, options)) {
      const wrongType = value !== DROP && value !== null && jsonTypeOf(value) !== jsonTypeOf(current);
      systematic.push({ label: `${formatPath(path)} = ${show(value)}`, conf: setAt(valid, path, value), env: {}, paths: [path], wrongType });
    }
  }
  const limit = options.limit ?? 300;
  const combinations = options.combinations ?? 40;
  const variables = options.variables === false ? [] : BAD_VARIABLES;
  const room = Math.max(0, limit - combinations - variables.length);
  // Thinned evenly, so that every path keeps some of its cases.
  const kept =
    systematic.length <= room ? systematic : Array.from({ length: room }, (_, index) => systematic[Math.floor((index * systematic.length) / room)]!);

  const random: FuzzCase[] = [];
  if (paths.length > 0 && combinations > 0) {
    const change = fc.tuple(fc.nat({ max: paths.length - 1 }), fc.nat({ max: 1000 }));
    const samples = fc.sample(fc.array(change, { minLength: 2, maxLength: 3 }), { seed: options.seed, numRuns: combinations });
    for (const changes of samples) {
      let conf = valid;
      const labels: string[] = [];
      const changed: JsonPath[] = [];
      for (const [pathIndex, pick] of changes) {
        const path = paths[pathIndex]!;
        // A path dropped by an earlier change of this case, or under one, is gone.
        if (changed.some((done) => done.length <= path.length && done.every((part, i) => part === path[i]))) continue;
        let current: unknown;
        try {
          current = getAt(conf, path);
        } catch {
          continue;
        }
        if (current === undefined) continue;
        const choices = replacements(path, current, options);
        const value = choices[pick % choices.length];
        conf = setAt(conf, path, value);
        labels.push(`${formatPath(path)} = ${show(value)}`);
        changed.push(path);
      }
      if (labels.length > 0) random.push({ label: labels.join(', '), conf, env: {}, paths: changed });
    }
  }
  const envCases: FuzzCase[] = variables.map((env) => ({
    label: Object.entries(env)
      .map(([key, value]) => `${key} = ${value === undefined ? '<unset>' : show(value)}`)
      .join(', '),
    conf: clone(valid),
    env,
    paths: [],
  }));
  return [...kept, ...random, ...envCases];
}
