// SPDX-License-Identifier: Apache-2.0
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorText, MultinetError } from './errors.ts';

/** The file the installer writes; `00-` so that runtimes pick it before the primary network. */
export const MULTINET_CONFLIST = '00-multinet.conflist';

/** Options of {@link buildMultinetConfList} and {@link installMultinetConfig}. */
export interface InstallOptions {
  /** The node's CNI configuration folder, as the installer sees it (`/host/etc/cni/net.d`). */
  confDir: string;
  /** The same folder as the node (and so the plugin) sees it. Default `/etc/cni/net.d`. */
  hostConfDir?: string;
  /** The primary network's file name; default the first `.conf`/`.conflist` in name order that is not ours. */
  primaryFile?: string;
  /** The kubeconfig path on the node, for the plugin. */
  kubeconfig?: string;
  /** Keys copied into the plugin's configuration as they are (cniDir, binDir, confDir, namespaceIsolation...). */
  pluginKeys?: Record<string, unknown>;
  /** The readiness indicator file the plugin waits for. */
  readinessindicatorfile?: string;
  /** How long to wait for the primary configuration, in milliseconds. Default 120000. */
  waitMs?: number;
  /** Stops the wait. */
  signal?: AbortSignal;
}

/** The primary network's file: the first configuration in name order that is not multinet's own. */
export function findPrimaryConfig(confDir: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(confDir);
  } catch {
    return undefined;
  }
  return names
    .filter((name) => /\.(conf|conflist|json)$/u.test(name) && !name.startsWith('00-multinet'))
    .sort()[0];
}

/**
 * multinet's configuration list wrapping the node's primary network: the primary's version,
 * the primary file (as the node sees it) as `clusterNetwork`, and the union of the
 * capabilities the primary's plugins enable, so the runtime still sends their runtimeConfig.
 */
export function buildMultinetConfList(options: InstallOptions & { primaryFile: string }): Record<string, unknown> {
  const path = join(options.confDir, options.primaryFile);
  let primary: Record<string, unknown>;
  try {
    primary = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new MultinetError(`failed to read the primary network configuration "${path}": ${errorText(error)}`, { code: 5 });
  }
  const plugins = Array.isArray(primary.plugins) ? (primary.plugins as Record<string, unknown>[]) : [primary];
  const capabilities: Record<string, boolean> = {};
  for (const plugin of plugins) {
    const declared = plugin.capabilities;
    if (typeof declared !== 'object' || declared === null) continue;
    for (const [name, enabled] of Object.entries(declared)) if (enabled === true) capabilities[name] = true;
  }
  const plugin: Record<string, unknown> = {
    type: 'multinet',
    ...(Object.keys(capabilities).length > 0 ? { capabilities } : {}),
    clusterNetwork: join(options.hostConfDir ?? '/etc/cni/net.d', options.primaryFile),
    ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
    ...(options.readinessindicatorfile ? { readinessindicatorfile: options.readinessindicatorfile } : {}),
    ...options.pluginKeys,
  };
  return { cniVersion: typeof primary.cniVersion === 'string' ? primary.cniVersion : '1.0.0', name: 'multinet-cni-network', plugins: [plugin] };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * What the install DaemonSet runs: wait until the node's primary network configuration exists
 * (spec §6.1: never before the default network is ready), then write {@link MULTINET_CONFLIST}
 * atomically next to it. Resolves to the file written.
 */
export async function installMultinetConfig(options: InstallOptions): Promise<string> {
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  let primaryFile = options.primaryFile;
  while (primaryFile === undefined || !existsSync(join(options.confDir, primaryFile))) {
    if (options.signal?.aborted) throw new MultinetError('install stopped while waiting for the primary network configuration');
    if (Date.now() >= deadline) throw new MultinetError(`no primary network configuration appeared in "${options.confDir}"`, { code: 11 });
    await sleep(250);
    primaryFile = options.primaryFile ?? findPrimaryConfig(options.confDir);
  }
  const list = buildMultinetConfList({ ...options, primaryFile });
  const target = join(options.confDir, MULTINET_CONFLIST);
  const temp = join(options.confDir, `.${MULTINET_CONFLIST}.${randomBytes(4).toString('hex')}`);
  writeFileSync(temp, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, target);
  return target;
}

/**
 * A kubeconfig for the plugin on the node, from the installer pod's service account: the
 * server, the cluster CA (embedded) and the token file path as the node sees it, so that a
 * rotated token is read again by every call.
 */
export function serviceAccountKubeconfig(options: { server: string; ca: string; tokenFile: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '  - name: local',
    '    cluster:',
    `      server: ${options.server}`,
    `      certificate-authority-data: ${Buffer.from(options.ca).toString('base64')}`,
    'users:',
    '  - name: multinet',
    '    user:',
    `      tokenFile: ${options.tokenFile}`,
    'contexts:',
    '  - name: multinet',
    '    context: {cluster: local, user: multinet}',
    'current-context: multinet',
    '',
  ].join('\n');
}

/** The paths {@link runInstaller} reads from its environment, with their defaults. */
export const INSTALLER_DEFAULTS = {
  MULTINET_BUNDLE_DIR: '/bundle/bin',
  MULTINET_HOST_BIN_DIR: '/host/opt/cni/bin',
  MULTINET_HOST_CONF_DIR: '/host/etc/cni/net.d',
  MULTINET_NODE_CONF_DIR: '/etc/cni/net.d',
  MULTINET_SERVICE_ACCOUNT_DIR: '/var/run/secrets/kubernetes.io/serviceaccount',
  MULTINET_REFRESH_SECONDS: '60',
} as const;

/**
 * The install DaemonSet's program: copy the bundle's executables to the node (each written
 * beside its target and renamed, so a running runtime never execs half a file), copy the
 * service account's token and CA to `<conf>/multinet.d/` with a kubeconfig that points at the
 * token file, wait for the primary network and write {@link MULTINET_CONFLIST}; then refresh
 * the token copy (bound tokens rotate) and the conflist (the primary may change) until
 * `signal` aborts. Reads its paths from `env` (see {@link INSTALLER_DEFAULTS}).
 */
export async function runInstaller(env: Readonly<Record<string, string | undefined>>, signal?: AbortSignal): Promise<void> {
  const setting = (key: keyof typeof INSTALLER_DEFAULTS) => env[key] ?? INSTALLER_DEFAULTS[key];
  const bundle = setting('MULTINET_BUNDLE_DIR');
  const binDir = setting('MULTINET_HOST_BIN_DIR');
  const confDir = setting('MULTINET_HOST_CONF_DIR');
  const nodeConfDir = setting('MULTINET_NODE_CONF_DIR');
  const saDir = setting('MULTINET_SERVICE_ACCOUNT_DIR');
  const atomicCopy = (from: string, to: string, mode: number) => {
    const temp = `${to}.tmp-${randomBytes(4).toString('hex')}`;
    copyFileSync(from, temp);
    chmodSync(temp, mode);
    renameSync(temp, to);
  };
  if (existsSync(bundle)) {
    mkdirSync(binDir, { recursive: true });
    for (const name of readdirSync(bundle)) {
      if (statSync(join(bundle, name)).isFile()) atomicCopy(join(bundle, name), join(binDir, name), 0o755);
    }
  }
  const ownDir = join(confDir, 'multinet.d');
  let kubeconfig: string | undefined;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const refreshToken = () => {
    if (host && port && existsSync(join(saDir, 'token'))) atomicCopy(join(saDir, 'token'), join(ownDir, 'token'), 0o600);
  };
  if (host && port && existsSync(join(saDir, 'token'))) {
    mkdirSync(ownDir, { recursive: true, mode: 0o700 });
    refreshToken();
    const file = join(ownDir, 'multinet.kubeconfig');
    writeFileSync(file, serviceAccountKubeconfig({
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ca: readFileSync(join(saDir, 'ca.crt'), 'utf8'),
      tokenFile: join(nodeConfDir, 'multinet.d', 'token'),
    }), { mode: 0o600 });
    kubeconfig = join(nodeConfDir, 'multinet.d', 'multinet.kubeconfig');
  }
  const options: InstallOptions = {
    confDir,
    hostConfDir: nodeConfDir,
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(env.MULTINET_READINESS_FILE ? { readinessindicatorfile: env.MULTINET_READINESS_FILE } : {}),
    ...(signal ? { signal } : {}),
  };
  await installMultinetConfig(options);
  const every = Number(setting('MULTINET_REFRESH_SECONDS')) * 1000;
  while (signal && !signal.aborted) {
    await sleep(every);
    refreshToken();
    await installMultinetConfig({ ...options, waitMs: every });
  }
}
