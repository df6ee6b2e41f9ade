// SPDX-License-Identifier: Apache-2.0
// Typed readers of a plugin's configuration. One `decodeConfig` call reads every key a plugin knows,
// collects every problem (a wrong type, a value out of range, a missing required key) with the
// key's full path (`ipam.routes[1].dst`), and throws them together as one CniError before the
// plugin does anything. Collecting (rather than stopping at the first) lets a user fix a
// configuration in one round; the first problem stays the message's head so a single problem
// reads exactly as `invalidConfigError` always wrote it.
import type { Dns } from './config.ts';
import { CNI_ERROR_CODES, CniError, invalidConfigError, type CniErrorCode } from './errors.ts';
import { isIp, parseCidr } from './internal/ip.ts';
import { isObject, show } from './internal/json.ts';

/** One thing wrong with a configuration: where, what was found, what was expected. */
export interface ConfigProblem {
  /** The key's path from the configuration's root: `mtu`, `ipam.routes[1].dst`. */
  readonly path: string;
  /** The value found; undefined for a missing key. */
  readonly value: unknown;
  /** What the key must be: `a string`, `an integer in [0, 65535]`. */
  readonly expected: string;
  /** The CNI code of this problem: 7 unless the plugin's anchor gives another (2 for an unsupported value). */
  readonly code: CniErrorCode;
}

/** The text of one problem: `invalid mtu "x", must be an integer` or `missing master, must be a string`. */
export function describeProblem(problem: ConfigProblem): string {
  return problem.value === undefined
    ? `missing ${problem.path}, must be ${problem.expected}`
    : `invalid ${problem.path} ${show(problem.value)}, must be ${problem.expected}`;
}

/**
 * The one error for a list of problems: the first problem's code, its text as the message (with
 * ` (and N more problems)` when there are more), and every problem, one a line, as `details`.
 */
export function configProblemsError(problems: readonly ConfigProblem[]): CniError {
  const [first, ...rest] = problems;
  if (!first) throw new TypeError('configProblemsError needs at least one problem');
  if (rest.length === 0) return new CniError(first.code, describeProblem(first));
  const more = rest.length === 1 ? '1 more problem' : `${rest.length} more problems`;
  return new CniError(first.code, `${describeProblem(first)} (and ${more})`, {
    details: problems.map(describeProblem).join('\n'),
  });
}

/** Bounds of an integer key; both inclusive. */
export interface IntRange {
  min?: number;
  max?: number;
}

/** Go reads JSON `null` as "not set" for every field type; so do these readers. */
function absent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

function rangeText(range: IntRange): string {
  const { min, max } = range;
  if (min !== undefined && max !== undefined) return `an integer in [${min}, ${max}]`;
  if (min === 0) return 'a non-negative integer';
  if (min !== undefined) return `an integer >= ${min}`;
  if (max !== undefined) return `an integer <= ${max}`;
  return 'an integer';
}

const CIDR_TEXT = 'a CIDR such as "10.1.2.3/24"';

/**
 * A reader of one value at a path: an array's element, or a key's value read as a whole. Every
 * read records a problem (and returns undefined) instead of throwing, so that one pass finds
 * every problem; {@link decodeConfig} throws them together at the end.
 */
export class ValueReader {
  /** @internal */
  constructor(
    /** The value read. */
    readonly value: unknown,
    /** Its path from the configuration's root. */
    readonly path: string,
    /** @internal The problem list shared by every reader of one decode. */
    readonly problems: ConfigProblem[],
  ) {}

  /** Record a problem with this value (or a value under it, when `path` is given). */
  fail(expected: string, options: { code?: CniErrorCode; path?: string; value?: unknown } = {}): undefined {
    this.problems.push({
      path: options.path ?? this.path,
      value: 'value' in options ? options.value : this.value,
      expected,
      code: options.code ?? CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
    });
    return undefined;
  }

  /** True when the value is absent (undefined or JSON null). */
  get absent(): boolean {
    return absent(this.value);
  }

  optString(): string | undefined {
    if (absent(this.value)) return undefined;
    if (typeof this.value !== 'string') return this.fail('a string');
    return this.value;
  }

  string(): string {
    if (absent(this.value)) return this.fail('a string') as never;
    return this.optString() as string;
  }

  /** A string that must be one of `values`; code 7 unless `code` says otherwise (2: unsupported). */
  optOneOf<const T extends string>(values: readonly T[], code?: CniErrorCode): T | undefined {
    const text = this.optString();
    if (text === undefined) return undefined;
    if (!(values as readonly string[]).includes(text)) {
      return this.fail(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, code === undefined ? {} : { code });
    }
    return text as T;
  }

  optBool(): boolean | undefined {
    if (absent(this.value)) return undefined;
    if (typeof this.value !== 'boolean') return this.fail('a boolean');
    return this.value;
  }

  /** A boolean, `fallback` (false) when absent. */
  bool(fallback = false): boolean {
    return this.optBool() ?? fallback;
  }

  /** An integer (Go's `int`: no fraction, within 2^53) within `range`, undefined when absent. */
  optInt(range: IntRange = {}): number | undefined {
    if (absent(this.value)) return undefined;
    const value = this.value;
    if (
      typeof value !== 'number' ||
      !Number.isSafeInteger(value) ||
      (range.min !== undefined && value < range.min) ||
      (range.max !== undefined && value > range.max)
    ) {
      return this.fail(rangeText(range));
    }
    return value;
  }

  /** An integer within `range`; `fallback` when absent, a problem when absent without one. */
  int(range: IntRange = {}, fallback?: number): number {
    if (absent(this.value)) return fallback ?? (this.fail(rangeText(range)) as never);
    return this.optInt(range) as number;
  }

  /** An IP address (v4 or v6, as Go's net.ParseIP reads it); "" counts as absent, as in Go. */
  optIp(): string | undefined {
    const text = this.optString();
    if (text === undefined || text === '') return undefined;
    if (!isIp(text)) return this.fail('an IP address');
    return text;
  }

  ip(): string {
    if (absent(this.value) || this.value === '') return this.fail('an IP address') as never;
    return this.optIp() as string;
  }

  /** A CIDR (`10.1.2.3/24`, as Go's net.ParseCIDR reads it), undefined when absent. */
  optCidr(): string | undefined {
    const text = this.optString();
    if (text === undefined) return undefined;
    if (!parseCidr(text)) return this.fail(CIDR_TEXT);
    return text;
  }

  cidr(): string {
    if (absent(this.value)) return this.fail(CIDR_TEXT) as never;
    return this.optCidr() as string;
  }

  /** An object's reader, undefined when absent. */
  optObject(): ConfigReader | undefined {
    if (absent(this.value)) return undefined;
    if (!isObject(this.value)) return this.fail('an object');
    return new ConfigReader(this.value, this.path, this.problems);
  }

  /** An object's reader; an absent object reads as `{}` after recording the problem. */
  object(): ConfigReader {
    if (absent(this.value)) {
      this.fail('an object');
      return new ConfigReader({}, this.path, this.problems);
    }
    return this.optObject() ?? new ConfigReader({}, this.path, this.problems);
  }

  /**
   * An array read element by element with `item` (given a reader at `path[i]`); elements whose
   * read recorded a problem are left out. Undefined when absent.
   */
  optArray<T>(item: (element: ValueReader, index: number) => T | undefined): T[] | undefined {
    if (absent(this.value)) return undefined;
    if (!Array.isArray(this.value)) return this.fail('an array');
    const out: T[] = [];
    this.value.forEach((element, index) => {
      const before = this.problems.length;
      const decoded = item(new ValueReader(element, `${this.path}[${index}]`, this.problems), index);
      if (this.problems.length === before && decoded !== undefined) out.push(decoded);
    });
    return out;
  }

  /** An array of strings (a JSON null element reads as "", as Go decodes it). */
  optStringArray(): string[] | undefined {
    return this.optArray((element) => (element.value === null ? '' : element.string()));
  }
}

/**
 * A reader of a JSON object's keys, each method named after the type the key must have. Keys it is
 * never asked about pass through untouched: they are the plugin's to ignore.
 *
 * @example
 * ```ts
 * const conf = decodeConfig(raw, (r) => ({
 *   master: r.optString('master') ?? '',
 *   mtu: r.int('mtu', { min: 0, max: 65535 }, 0),
 *   routes: r.optArray('routes', (route) => route.object().cidr('dst')) ?? [],
 * }));
 * ```
 */
export class ConfigReader {
  /** @internal */
  constructor(
    /** The object read. */
    readonly raw: Record<string, unknown>,
    /** Its path from the configuration's root, '' for the root. */
    readonly path: string,
    /** @internal */
    readonly problems: ConfigProblem[],
  ) {}

  /** The path of `key` under this object. */
  pathOf(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  /** A reader of `key`'s value; an inherited `__proto__` or `toString` is not a key of a JSON object. */
  key(key: string): ValueReader {
    const value = Object.hasOwn(this.raw, key) ? this.raw[key] : undefined;
    return new ValueReader(value, this.pathOf(key), this.problems);
  }

  /** True when `key` is present and not null. */
  has(key: string): boolean {
    return !this.key(key).absent;
  }

  /** Record a problem with `key` (a rule the typed readers cannot express). */
  fail(key: string, value: unknown, expected: string, code?: CniErrorCode): undefined {
    return this.key(key).fail(expected, { value, ...(code === undefined ? {} : { code }) });
  }

  /** True when no read of this decode has recorded a problem so far. */
  get ok(): boolean {
    return this.problems.length === 0;
  }

  string(key: string): string {
    return this.key(key).string();
  }
  optString(key: string): string | undefined {
    return this.key(key).optString();
  }
  optOneOf<const T extends string>(key: string, values: readonly T[], code?: CniErrorCode): T | undefined {
    return this.key(key).optOneOf(values, code);
  }
  bool(key: string, fallback = false): boolean {
    return this.key(key).bool(fallback);
  }
  optBool(key: string): boolean | undefined {
    return this.key(key).optBool();
  }
  int(key: string, range: IntRange = {}, fallback?: number): number {
    return this.key(key).int(range, fallback);
  }
  optInt(key: string, range: IntRange = {}): number | undefined {
    return this.key(key).optInt(range);
  }
  ip(key: string): string {
    return this.key(key).ip();
  }
  optIp(key: string): string | undefined {
    return this.key(key).optIp();
  }
  cidr(key: string): string {
    return this.key(key).cidr();
  }
  optCidr(key: string): string | undefined {
    return this.key(key).optCidr();
  }
  object(key: string): ConfigReader {
    return this.key(key).object();
  }
  optObject(key: string): ConfigReader | undefined {
    return this.key(key).optObject();
  }
  optArray<T>(key: string, item: (element: ValueReader, index: number) => T | undefined): T[] | undefined {
    return this.key(key).optArray(item);
  }
  optStringArray(key: string): string[] | undefined {
    return this.key(key).optStringArray();
  }
}

/**
 * Read a configuration with `read`, then throw every problem it recorded as one CniError (see
 * {@link configProblemsError}); return what `read` built when there were none. `raw` must be an
 * object (a parsed NetConf is); anything else is one problem at `path`.
 */
export function decodeConfig<T>(raw: unknown, read: (reader: ConfigReader) => T, path = ''): T {
  const problems: ConfigProblem[] = [];
  if (!isObject(raw)) {
    problems.push({ path: path || 'configuration', value: raw, expected: 'an object', code: CNI_ERROR_CODES.INVALID_NETWORK_CONFIG });
    throw configProblemsError(problems);
  }
  const result = read(new ConfigReader(raw, path, problems));
  if (problems.length > 0) throw configProblemsError(problems);
  return result;
}

/** True when a configuration's `dns` sets anything: then it replaces the IPAM plugin's, as upstream's `dnsConfSet`. */
export function dnsConfSet(dns: Dns | undefined | null): dns is Dns {
  return (
    dns !== undefined &&
    dns !== null &&
    (dns.nameservers !== undefined || dns.search !== undefined || dns.options !== undefined || (dns.domain ?? '') !== '')
  );
}

/** The IPAM plugin's type, `''` when the configuration has no IPAM section or no string type. */
export function ipamTypeOf(conf: { ipam?: unknown }): string {
  const ipam = conf.ipam;
  if (!isObject(ipam)) return '';
  const type = ipam.type;
  return typeof type === 'string' ? type : '';
}

const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/**
 * A 48-bit MAC address in canonical form (lowercase, colons), as Go's `net.ParseMAC` reads the
 * forms a link takes; `path` names where it came from (`mac`, `CNI_ARGS MAC`) for the code-7 error.
 */
export function parseMacAddress(value: string, path: string): string {
  if (!MAC.test(value)) throw invalidConfigError(path, value, 'a MAC address such as "0e:00:00:00:00:01"');
  return value.toLowerCase().replaceAll('-', ':');
}
