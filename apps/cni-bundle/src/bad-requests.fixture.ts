// SPDX-License-Identifier: Apache-2.0
// The table of bad requests: what a runtime (or a broken one) may send a plugin, and the error
// code each must get. It runs twice: in-process through runPlugin (bad-requests.test.ts) and
// against the built dist/bin/sample as a runtime runs it (bad-requests.e2e.test.ts), which also
// sends the rows Debian's reference agrees on to /usr/lib/cni/tuning.

/** Placeholders the runners replace: an existing netns path, and the CNI_PATH to use. */
export const NETNS = '@NETNS@';
export const CNI_PATH = '@CNI_PATH@';

/** Whether Debian's reference (plugins v1.1.1 on cni v1.1.x) answers the row as upstream does. */
export type ReferenceVerdict =
  | {
      /** The reference gives the same code; `sameText` when its `msg` is ours byte for byte. */
      agrees: true;
      sameText: boolean;
      why: string;
    }
  | { agrees: false; why: string };

/** One bad request and the answer it must get. */
export interface BadRequest {
  name: string;
  /** The CNI variables; nothing else is set but PATH. */
  env: Record<string, string>;
  /** The configuration, or a size for an oversized stdin made of spaces. */
  stdin: string | { bytes: number };
  /** The exit status 1 error (or, for code 0, the about text case). */
  code: number;
  /** The whole `msg`, or a pattern of it. */
  msg?: string | RegExp;
  reference: ReferenceVerdict;
}

const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }] };

/** A configuration the sample accepts, in version 1.0.0 (the newest Debian's reference knows). */
export function goodConf(extra: Record<string, unknown> = {}, version = '1.0.0'): string {
  const conf: Record<string, unknown> = { cniVersion: version, name: 'pods', type: 'sample', anotherAwesomeArg: 'x', prevResult, ...extra };
  for (const [key, value] of Object.entries(extra)) if (value === undefined) delete conf[key];
  return JSON.stringify(conf);
}

/** The variables of a complete request for `command`, with `changes` applied (`undefined` unsets). */
export function envFor(command: string, changes: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: 'ctr1',
    CNI_NETNS: NETNS,
    CNI_IFNAME: 'eth0',
    CNI_PATH,
    ...changes,
  };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const skel = (why: string, sameText = true): ReferenceVerdict => ({ agrees: true, sameText, why });
const envRule = skel('skel environment rule, unchanged since cni v1.0 (section 4: code 4 matches)');
const nameRule = skel('skel config check, unchanged (section 4: code 7 matches)');
const decodeRule = skel('JSON decoding fails in skel before any plugin code (section 4: code 6 matches); Go and JS word the reason differently', false);
const argsRule = skel("types.LoadArgs, which tuning also applies to CNI_ARGS before its own work (section 4: code 999 matches)");
const newer = (why: string): ReferenceVerdict => ({ agrees: false, why });

export const badRequests: BadRequest[] = [
  // The environment.
  { name: 'no CNI_COMMAND: about text on stderr, exit 0', env: {}, stdin: '', code: 0, reference: skel('about text (tested in section 1.2)') },
  { name: 'empty CNI_COMMAND is no command', env: envFor(''), stdin: goodConf(), code: 0, reference: skel('Getenv makes empty and unset the same') },
  { name: 'ADD without CNI_CONTAINERID', env: envFor('ADD', { CNI_CONTAINERID: undefined }), stdin: goodConf(), code: 4, msg: 'required env variables [CNI_CONTAINERID] missing', reference: envRule },
  { name: 'ADD without CNI_NETNS', env: envFor('ADD', { CNI_NETNS: undefined }), stdin: goodConf(), code: 4, msg: 'required env variables [CNI_NETNS] missing', reference: envRule },
  { name: 'ADD without CNI_IFNAME', env: envFor('ADD', { CNI_IFNAME: undefined }), stdin: goodConf(), code: 4, msg: 'required env variables [CNI_IFNAME] missing', reference: envRule },
  { name: 'ADD without CNI_PATH', env: envFor('ADD', { CNI_PATH: undefined }), stdin: goodConf(), code: 4, msg: 'required env variables [CNI_PATH] missing', reference: envRule },
  {
    name: 'ADD with only CNI_COMMAND: all missing, together',
    env: { CNI_COMMAND: 'ADD' },
    stdin: goodConf(),
    code: 4,
    msg: 'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH] missing',
    reference: envRule,
  },
  { name: 'ADD with an empty CNI_IFNAME', env: envFor('ADD', { CNI_IFNAME: '' }), stdin: goodConf(), code: 4, msg: 'required env variables [CNI_IFNAME] missing', reference: envRule },
  {
    name: 'DEL with only CNI_COMMAND (CNI_NETNS is optional)',
    env: { CNI_COMMAND: 'DEL' },
    stdin: goodConf(),
    code: 4,
    msg: 'required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_PATH] missing',
    reference: envRule,
  },
  { name: 'CHECK without CNI_NETNS', env: envFor('CHECK', { CNI_NETNS: undefined }), stdin: goodConf(), code: 4, msg: 'required env variables [CNI_NETNS] missing', reference: envRule },
  { name: 'unknown CNI_COMMAND', env: envFor('FOO'), stdin: goodConf(), code: 4, msg: 'unknown CNI_COMMAND: FOO', reference: envRule },
  { name: 'lower-case command', env: envFor('add'), stdin: goodConf(), code: 4, msg: 'unknown CNI_COMMAND: add', reference: envRule },
  { name: 'container ID with a slash', env: envFor('ADD', { CNI_CONTAINERID: 'a/b' }), stdin: goodConf(), code: 4, msg: 'invalid characters in containerID', reference: envRule },
  { name: 'container ID starting with a dash', env: envFor('ADD', { CNI_CONTAINERID: '-abc' }), stdin: goodConf(), code: 4, msg: 'invalid characters in containerID', reference: envRule },
  { name: 'container ID starting with a dot', env: envFor('ADD', { CNI_CONTAINERID: '.abc' }), stdin: goodConf(), code: 4, msg: 'invalid characters in containerID', reference: envRule },
  { name: 'container ID with a space', env: envFor('ADD', { CNI_CONTAINERID: 'a b' }), stdin: goodConf(), code: 4, msg: 'invalid characters in containerID', reference: envRule },
  { name: 'container ID with a non-ASCII letter', env: envFor('ADD', { CNI_CONTAINERID: 'caf\u00e9' }), stdin: goodConf(), code: 4, msg: 'invalid characters in containerID', reference: envRule },
  { name: 'DEL with a bad container ID', env: envFor('DEL', { CNI_CONTAINERID: 'x;y' }), stdin: goodConf(), code: 4, msg: 'invalid characters in containerID', reference: envRule },
  { name: 'interface name of 16 bytes', env: envFor('ADD', { CNI_IFNAME: 'a'.repeat(16) }), stdin: goodConf(), code: 4, msg: 'interface name is too long', reference: envRule },
  { name: 'interface name of 9 characters and 18 bytes', env: envFor('ADD', { CNI_IFNAME: '\u00e9'.repeat(9) }), stdin: goodConf(), code: 4, msg: 'interface name is too long', reference: envRule },
  { name: 'interface name "."', env: envFor('ADD', { CNI_IFNAME: '.' }), stdin: goodConf(), code: 4, msg: 'interface name is . or ..', reference: envRule },
  { name: 'interface name ".."', env: envFor('ADD', { CNI_IFNAME: '..' }), stdin: goodConf(), code: 4, msg: 'interface name is . or ..', reference: envRule },
  { name: 'interface name with "/"', env: envFor('ADD', { CNI_IFNAME: 'eth/0' }), stdin: goodConf(), code: 4, msg: 'interface name contains / or : or whitespace characters', reference: envRule },
  { name: 'interface name with ":"', env: envFor('ADD', { CNI_IFNAME: 'eth0:1' }), stdin: goodConf(), code: 4, msg: 'interface name contains / or : or whitespace characters', reference: envRule },
  { name: 'interface name with a space', env: envFor('ADD', { CNI_IFNAME: 'eth 0' }), stdin: goodConf(), code: 4, msg: 'interface name contains / or : or whitespace characters', reference: envRule },
  { name: 'interface name with a tab', env: envFor('ADD', { CNI_IFNAME: 'eth\t0' }), stdin: goodConf(), code: 4, msg: 'interface name contains / or : or whitespace characters', reference: envRule },
  { name: 'DEL with a too long interface name', env: envFor('DEL', { CNI_IFNAME: 'x'.repeat(20) }), stdin: goodConf(), code: 4, msg: 'interface name is too long', reference: envRule },

  // The configuration.
  { name: 'empty stdin', env: envFor('ADD'), stdin: '', code: 6, msg: /^error unmarshall network config: /, reference: decodeRule },
  { name: 'stdin that is not JSON', env: envFor('ADD'), stdin: 'hello', code: 6, msg: /^error unmarshall network config: /, reference: decodeRule },
  { name: 'truncated JSON', env: envFor('ADD'), stdin: '{"name":', code: 6, msg: /^error unmarshall network config: /, reference: decodeRule },
  { name: 'a JSON array', env: envFor('ADD'), stdin: '[]', code: 6, msg: /^error unmarshall network config: /, reference: decodeRule },
  { name: 'a JSON string', env: envFor('ADD'), stdin: '"pods"', code: 6, msg: /^error unmarshall network config: /, reference: decodeRule },
  { name: 'JSON with a byte order mark', env: envFor('ADD'), stdin: `\ufeff${goodConf()}`, code: 6, msg: /^error unmarshall network config: /, reference: decodeRule },
  { name: 'JSON null: a config without a name', env: envFor('ADD'), stdin: 'null', code: 7, msg: 'missing network name', reference: nameRule },
  { name: 'no name', env: envFor('ADD'), stdin: goodConf({ name: undefined }), code: 7, msg: 'missing network name', reference: nameRule },
  { name: 'empty name', env: envFor('ADD'), stdin: goodConf({ name: '' }), code: 7, msg: 'missing network name', reference: nameRule },
  { name: 'name with a space', env: envFor('ADD'), stdin: goodConf({ name: 'my pods' }), code: 7, msg: 'invalid characters found in network name', reference: nameRule },
  { name: 'name with a slash', env: envFor('ADD'), stdin: goodConf({ name: 'a/b' }), code: 7, msg: 'invalid characters found in network name', reference: nameRule },
  {
    name: 'name that is a number',
    env: envFor('ADD'),
    stdin: goodConf({ name: 5 }),
    code: 6,
    msg: 'error unmarshall network config: json: cannot unmarshal number into Go struct field .name of type string',
    reference: skel('skel decodes name into a Go string (section 4: code 6 matches)'),
  },
  {
    name: 'cniVersion that is a number',
    env: envFor('ADD'),
    stdin: goodConf({ cniVersion: 1 }),
    code: 6,
    msg: 'decoding version from network config: json: cannot unmarshal number into Go struct field .cniVersion of type string',
    reference: skel('skel decodes cniVersion into a Go string (section 4: code 6 matches)'),
  },
  {
    name: 'unknown cniVersion',
    env: envFor('ADD'),
    stdin: goodConf({}, '9.9.9'),
    code: 1,
    msg: 'incompatible CNI versions',
    reference: skel('exact membership in the supported list (section 1.1); details list each side\'s versions'),
  },
  { name: 'cniVersion that is not a version', env: envFor('ADD'), stdin: goodConf({}, 'abc'), code: 1, msg: 'incompatible CNI versions', reference: skel('exact membership (section 1.1)') },
  { name: 'DEL with an unknown cniVersion', env: envFor('DEL'), stdin: goodConf({}, '0.5.0'), code: 1, msg: 'incompatible CNI versions', reference: skel('exact membership (section 1.1)') },
  {
    name: 'stdin over 10 MiB',
    env: envFor('ADD'),
    stdin: { bytes: 10 * 1024 * 1024 + 1 },
    code: 5,
    msg: /^error reading from stdin: /,
    reference: newer('Debian reads any size, then fails to decode (code 6); the cap is ours'),
  },
  {
    name: 'conf without type',
    env: envFor('ADD'),
    stdin: goodConf({ type: undefined }),
    code: 7,
    msg: 'missing type',
    reference: newer("upstream's skel does not look at type; @cni/spec's parser requires it"),
  },
  {
    name: 'ipam that is not an object',
    env: envFor('ADD'),
    stdin: goodConf({ ipam: 'host-local' }),
    code: 7,
    msg: /ipam/,
    reference: newer('upstream fails in the plugin\'s own json.Unmarshal (code 999); our parser checks well-known keys (code 7)'),
  },
  {
    name: 'prevResult that is not an object',
    env: envFor('ADD'),
    stdin: goodConf({ prevResult: 5 }),
    code: 7,
    msg: /prevResult/,
    reference: newer('upstream: code 999 from the plugin\'s json.Unmarshal'),
  },

  // Verbs and versions.
  { name: 'CHECK on 0.3.1', env: envFor('CHECK'), stdin: goodConf({ prevResult: undefined }, '0.3.1'), code: 1, msg: 'config version does not allow CHECK', reference: skel('CHECK gate, unchanged since 0.4.0') },
  { name: 'CHECK on 0.2.0', env: envFor('CHECK'), stdin: goodConf({ prevResult: undefined }, '0.2.0'), code: 1, msg: 'config version does not allow CHECK', reference: skel('CHECK gate, unchanged since 0.4.0') },
  {
    name: 'CHECK with a cniVersion that is not a version',
    env: envFor('CHECK'),
    stdin: goodConf({}, 'x.y.z'),
    code: 6,
    msg: /invalid version|x/,
    reference: skel('the gate parses the version and fails to (code 6); texts differ', false),
  },
  { name: 'GC on 1.0.0', env: envFor('GC'), stdin: goodConf({ prevResult: undefined }), code: 1, msg: 'config version does not allow GC', reference: newer('Debian predates GC (unknown CNI_COMMAND)') },
  { name: 'STATUS on 0.4.0', env: envFor('STATUS'), stdin: goodConf({ prevResult: undefined }, '0.4.0'), code: 1, msg: 'config version does not allow STATUS', reference: newer('Debian predates STATUS') },
  { name: 'GC without CNI_PATH', env: { CNI_COMMAND: 'GC' }, stdin: goodConf({ prevResult: undefined }, '1.1.0'), code: 4, msg: 'required env variables [CNI_PATH] missing', reference: newer('Debian predates GC') },
  {
    name: "CNI_NETNS is the plugin's own namespace",
    env: envFor('ADD', { CNI_NETNS: '/proc/self/ns/net' }),
    stdin: goodConf(),
    code: 8,
    msg: "plugin's netns and netns from CNI_NETNS should not be the same",
    reference: newer('the netns check came with cni v1.2.0 (section 4)'),
  },
  {
    name: 'CNI_NETNS that does not exist',
    env: envFor('ADD', { CNI_NETNS: '/var/run/netns/cni-absent-netns-0' }),
    stdin: goodConf(),
    code: 3,
    msg: 'failed to open netns "/var/run/netns/cni-absent-netns-0": no such file or directory',
    reference: newer('tuning reports a plain error (999); the sample says "container does not exist" (3)'),
  },

  // CNI_ARGS, read by the plugin with upstream's LoadArgs.
  { name: 'CNI_ARGS with an unknown key', env: envFor('ADD', { CNI_ARGS: 'FOO=bar' }), stdin: goodConf(), code: 999, msg: 'ARGS: unknown args ["FOO=bar"]', reference: argsRule },
  { name: 'CNI_ARGS with a lower-case key', env: envFor('ADD', { CNI_ARGS: 'ip=10.1.0.9' }), stdin: goodConf(), code: 999, msg: 'ARGS: unknown args ["ip=10.1.0.9"]', reference: argsRule },
  { name: 'CNI_ARGS pair without "="', env: envFor('ADD', { CNI_ARGS: 'IgnoreUnknown=1;FOO' }), stdin: goodConf(), code: 999, msg: 'ARGS: invalid pair "FOO"', reference: argsRule },
  {
    name: 'CNI_ARGS IgnoreUnknown that is not a boolean',
    env: envFor('ADD', { CNI_ARGS: 'IgnoreUnknown=maybe' }),
    stdin: goodConf(),
    code: 999,
    msg: 'ARGS: error parsing value of pair "IgnoreUnknown=maybe": boolean unmarshal error: invalid input maybe',
    reference: argsRule,
  },

  // The sample's own rules.
  { name: 'ADD without prevResult', env: envFor('ADD'), stdin: goodConf({ prevResult: undefined }), code: 7, msg: 'must be called as chained plugin', reference: newer('tuning says the same as a plain error (999)') },
  {
    name: 'prevResult of another version than the config',
    env: envFor('ADD'),
    stdin: goodConf({ prevResult: { cniVersion: '0.4.0', ips: [{ version: '4', address: '10.1.0.5/16' }] } }),
    code: 7,
    msg: /^could not parse prevResult: /,
    reference: newer('tuning reports it as a plain error (999)'),
  },
  { name: 'prevResult without addresses', env: envFor('ADD'), stdin: goodConf({ prevResult: { cniVersion: '1.0.0', interfaces: [{ name: 'eth0' }] } }), code: 7, msg: 'got no container IPs', reference: newer('sample only: Debian has no sample') },
  { name: 'no anotherAwesomeArg', env: envFor('ADD'), stdin: goodConf({ anotherAwesomeArg: undefined }), code: 7, msg: 'anotherAwesomeArg must be specified', reference: newer('sample only') },
  { name: 'myAwesomeFlag that is not a boolean', env: envFor('ADD'), stdin: goodConf({ myAwesomeFlag: 'yes' }), code: 7, msg: /myAwesomeFlag/, reference: newer('sample only') },
  { name: 'CHECK without prevResult', env: envFor('CHECK'), stdin: goodConf({ prevResult: undefined }), code: 7, msg: 'required prevResult missing', reference: newer('sample only') },
];
