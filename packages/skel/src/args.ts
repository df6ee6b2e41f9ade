// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError } from '@cni/spec';

/**
 * Turns the text of one `K=V` value into a typed value; throws (any error) when the text is
 * not a valid value. The counterpart of Go's `encoding.TextUnmarshaler` on a field of a
 * `types.LoadArgs` struct.
 */
export type ArgParser<T> = (value: string) => T;

/** The keys {@link loadArgs} accepts, each with the parser of its value. Keys are case-sensitive. */
export type ArgsSchema = Record<string, ArgParser<unknown>>;

/**
 * What {@link loadArgs} returns: each key of the schema that CNI_ARGS set, parsed, and
 * `IgnoreUnknown`, which every schema accepts (upstream's embedded `types.CommonArgs`).
 */
export type LoadedArgs<S extends ArgsSchema> = { [K in keyof S]?: ReturnType<S[K]> } & { IgnoreUnknown: boolean };

/** The value as it is: upstream's `types.UnmarshallableString`. */
export const argString: ArgParser<string> = (value) => value;

/**
 * A boolean as upstream's `types.UnmarshallableBool` reads it: `1`/`true` and `0`/`false`, in any
 * case; anything else is an error.
 */
export const argBool: ArgParser<boolean> = (value) => {
  const lower = value.toLowerCase();
  if (lower === '1' || lower === 'true') return true;
  if (lower === '0' || lower === 'false') return false;
  throw new Error(`boolean unmarshal error: invalid input ${lower}`);
};

/** Go's `%q` of a string: a double-quoted JSON string is close enough for the texts we print. */
function quote(value: string): string {
  return JSON.stringify(value);
}

function argsError(message: string, cause?: unknown): CniError {
  // Upstream's LoadArgs returns plain errors that skel wraps as code 999; keep that code so
  // a runtime sees what it sees from the reference plugins.
  return new CniError(CNI_ERROR_CODES.INTERNAL, message, cause === undefined ? {} : { cause });
}

/**
 * Parse CNI_ARGS (`K=V;K2=V2`) leniently into a record: the text before the first `=` is the key,
 * the rest the value; pieces without `=` and empty pieces are skipped, a repeated key keeps its
 * last value. Use {@link loadArgs} to get upstream's strict rules.
 */
export function parseCniArgs(raw: string): Readonly<Record<string, string>> {
  const record: Record<string, string> = {};
  if (raw === '') return record;
  for (const pair of raw.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    record[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return record;
}

/**
 * Read CNI_ARGS into typed values with the rules of upstream's `types.LoadArgs`:
 *
 * - every `;`-separated pair must have exactly one `=` (`ARGS: invalid pair "x"`);
 * - keys match the schema case-sensitively (`IP`, not `ip`), as Go field names do;
 * - a value the parser refuses fails with `ARGS: error parsing value of pair "K=V": <reason>`;
 * - keys the schema does not name fail with `ARGS: unknown args ["A=1" "B=2"]`, unless the
 *   request says `IgnoreUnknown=1` (or `true`), which runtimes such as the kubelet always send.
 *
 * Errors are CniErrors of code 999, the code upstream plugins report for them.
 *
 * @example
 * ```ts
 * const args = loadArgs(request.argsString, { IP: argString, K8S_POD_NAME: argString });
 * if (args.IP) ...
 * ```
 */
export function loadArgs<S extends ArgsSchema>(raw: string, schema: S): LoadedArgs<S> {
  const loaded: Record<string, unknown> = { IgnoreUnknown: false };
  if (raw === '') return loaded as LoadedArgs<S>;
  const unknown: string[] = [];
  for (const pair of raw.split(';')) {
    const parts = pair.split('=');
    if (parts.length !== 2) throw argsError(`ARGS: invalid pair ${quote(pair)}`);
    const [key, value] = parts as [string, string];
    const parser = key === 'IgnoreUnknown' ? argBool : Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!parser) {
      unknown.push(pair);
      continue;
    }
    try {
      loaded[key] = parser(value);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw argsError(`ARGS: error parsing value of pair ${quote(pair)}: ${reason}`, error);
    }
  }
  if (unknown.length > 0 && loaded.IgnoreUnknown !== true) {
    throw argsError(`ARGS: unknown args [${unknown.map(quote).join(' ')}]`);
  }
  return loaded as LoadedArgs<S>;
}
