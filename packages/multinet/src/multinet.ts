// SPDX-License-Identifier: Apache-2.0
import { existsSync, readFileSync } from 'node:fs';
import {
  cacheFilePath,
  CniConfig,
  confListFromBytes,
  PluginError,
  RawExec,
  writeCache,
  type CacheFileV1,
  type InProcessPlugins,
  type NetworkConfigList,
  type PluginExec,
  type RuntimeConf,
} from '@cni/libcni';
import { definePlugin, type CniPlugin, type PluginRequest } from '@cni/skel';
import { ALL_SPEC_VERSIONS, CNI_ERROR_CODES, compareVersions, effectiveVersion, specVersionHas, type GcAttachment, type Result } from '@cni/spec';
import {
  DEFAULT_NETWORK_ANNOTATION,
  NETWORK_STATUS_ANNOTATION,
  NETWORKS_ANNOTATION,
  parseDefaultNetworkAnnotation,
  parseNetworkSelection,
  type NetworkSelection,
} from './annotations.ts';
import {
  deleteAttachmentCache,
  listAttachmentCaches,
  readAttachmentCache,
  writeAttachmentCache,
  type AttachmentRecord,
  type CachedAttachment,
} from './cache.ts';
import { LOG_LEVELS, parseMultinetConf, type LogLevel, type MultinetConf } from './conf.ts';
import { readDeviceInfo } from './device/device-info.ts';
import { DeviceAllocator, RESOURCE_NAME_ANNOTATION, withDeviceId, type DeviceSourceOptions } from './device/resources.ts';
import { errorText, MultinetError } from './errors.ts';
import type { KubeApi, KubeClient, Pod } from './kube.ts';
import { loadNetworkByPathOrName, resolveNadConfig, type NadSource } from './nad.ts';
import { isResident, sharedKubeClient, sharedNadInformer, watchedNadDirectory } from './resident.ts';
import { applyDefaultRoute } from './routes.ts';
import { networkStatus } from './status.ts';

/** The runtimeConfig key under which containerd passes the pod's annotations (a capability). */
const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';

/** Options of {@link createMultinet}: how delegates run and where the API is, for embedders and tests. */
export interface MultinetOptions<P = never> {
  /** How delegate executables are found and run. Default a libcni RawExec. */
  exec?: PluginExec;
  /** Delegates that run in this process (the bundle's own plugins). */
  inProcess?: InProcessPlugins<P>;
  /** Makes the API client from the configuration; default a KubeClient from `kubeconfig`. */
  kube?: (conf: MultinetConf) => KubeApi | Promise<KubeApi>;
  /** How long ADD waits for the readiness indicator file, in milliseconds. Default 45000. */
  readinessTimeoutMs?: number;
  /** The environment delegates inherit (before the CNI variables). Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where the kubelet's device allocations are read, for NADs with a resourceName. Default the kubelet's paths. */
  devices?: DeviceSourceOptions;
}

/** One network to attach, fully resolved. */
interface Planned {
  network: string;
  list: NetworkConfigList;
  ifName: string;
  capabilityArgs: Record<string, unknown>;
  isDefault: boolean;
  selection: NetworkSelection | undefined;
  /** The device-plugin device's information, for network-status. */
  deviceInfo?: Record<string, unknown> | undefined;
  /** CNI_ARGS pairs of this attachment alone, after the request's. */
  extraArgs: [string, string][];
}

interface PodRef {
  namespace: string;
  name: string;
  uid?: string;
}

/** The selection keys that become runtimeConfig capabilities, with the capability's name. */
function selectionCapabilities(selection: NetworkSelection): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  if (selection.ips) args.ips = selection.ips;
  if (selection.mac) args.mac = selection.mac;
  if (selection.portMappings) args.portMappings = selection.portMappings;
  if (selection.bandwidth) args.bandwidth = selection.bandwidth;
  if (selection.infinibandGuid) args.infinibandGUID = selection.infinibandGuid;
  return args;
}

/**
 * The legacy CNI_ARGS of a selection, as Multus passes them besides runtimeConfig: `MAC=` and
 * `IP=` (comma-joined, as given), which host-local, static and third-party IPAMs read.
 */
function selectionArgs(selection: NetworkSelection): [string, string][] {
  const args: [string, string][] = [];
  if (selection.mac) args.push(['MAC', selection.mac]);
  if (selection.ips && selection.ips.length > 0) args.push(['IP', selection.ips.join(',')]);
  return args;
}

/** The list with `cni` merged into `args.cni` of every plugin, the annotation's values winning (spec §4.1.2). */
function withCniArgs(list: NetworkConfigList, cniArgs: Record<string, unknown>): NetworkConfigList {
  const raw = JSON.parse(Buffer.from(list.bytes).toString('utf8')) as { plugins: Record<string, unknown>[] };
  raw.plugins = raw.plugins.map((plugin) => {
    const args = (typeof plugin.args === 'object' && plugin.args !== null ? plugin.args : {}) as Record<string, unknown>;
    const cni = (typeof args.cni === 'object' && args.cni !== null ? args.cni : {}) as Record<string, unknown>;
    return { ...plugin, args: { ...args, cni: { ...cni, ...cniArgs } } };
  });
  return confListFromBytes(JSON.stringify(raw));
}

/** CNI_ARGS as ordered pairs, with IgnoreUnknown so that strict delegates accept the Kubernetes keys. */
function argPairs(argsString: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const pair of argsString.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    pairs.push([pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  if (pairs.length > 0 && !pairs.some(([key]) => key === 'IgnoreUnknown')) pairs.unshift(['IgnoreUnknown', '1']);
  return pairs;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The code of a wrapped error, so the runtime can still branch on the delegate's code. */
function codeOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : CNI_ERROR_CODES.INTERNAL;
}

/** Everything one request needs, made once. */
class Session<P> {
  readonly conf: MultinetConf;
  readonly cni: CniConfig<P>;
  readonly exec: PluginExec;
  readonly request: PluginRequest;
  readonly options: MultinetOptions<P>;
  #kube: KubeApi | undefined | null = null;
  #nads: NadSource | undefined | null = null;

  constructor(request: PluginRequest, options: MultinetOptions<P>) {
    this.request = request;
    this.options = options;
    this.conf = parseMultinetConf(request.conf);
    // Delegates' diagnostics go to the runtime's log, as upstream's invoke passes stderr on.
    this.exec = options.exec ?? new RawExec();
    this.cni = new CniConfig<P>({
      path: [this.conf.binDir, ...request.path.filter((dir) => dir !== this.conf.binDir)],
      cacheDir: this.conf.cniDir,
      exec: this.exec,
      inProcess: options.inProcess,
      env: options.env ?? process.env,
      stderr: null,
    });
  }

  /** The API client, made on first use (and only when a kubeconfig is configured). */
  async kube(): Promise<KubeApi | undefined> {
    if (this.#kube !== null) return this.#kube;
    if (this.conf.kubeconfig === undefined && this.options.kube === undefined) return (this.#kube = undefined);
    if (this.options.kube) return (this.#kube = await this.options.kube(this.conf));
    const { KubeClient, kubeconfigOptions } = await import('./kube.ts');
    const file = this.conf.kubeconfig as string;
    // Thick mode (a resident worker): one client per kubeconfig for the worker's life, so its
    // keep-alive connection to the API server serves the next pods too.
    if (isResident()) return (this.#kube = sharedKubeClient(file, () => new KubeClient(kubeconfigOptions(file))));
    return (this.#kube = new KubeClient(kubeconfigOptions(file)));
  }

  /** Where NADs come from: the API, else the manifest folder, else nowhere. */
  async nads(): Promise<NadSource | undefined> {
    if (this.#nads !== null) return this.#nads;
    const kube = await this.kube();
    // Thick mode: NADs from an informer over the shared client (list, then watch).
    if (kube && isResident() && this.options.kube === undefined) return (this.#nads = sharedNadInformer(this.conf.kubeconfig as string, kube as KubeClient));
    if (kube) return (this.#nads = kube);
    if (this.conf.nadDir) {
      const { nadDirectorySource } = await import('./manifests.ts');
      const dir = this.conf.nadDir;
      // Thick mode: the folder parsed once and kept current by a watch (see watchedNadDirectory).
      if (isResident()) return (this.#nads = watchedNadDirectory(dir, () => nadDirectorySource(dir)));
      return (this.#nads = nadDirectorySource(dir));
    }
    return (this.#nads = undefined);
  }

  close(): void {
    // A shared client (thick mode) outlives the request.
    if (isResident() && this.options.kube === undefined) return;
    (this.#kube as { close?: () => void } | undefined | null)?.close?.();
  }

  /** A line of multinet's own log, written when `logLevel` is at least `level`. */
  log(level: Exclude<LogLevel, 'panic'>, message: string, fields?: Record<string, unknown>): void {
    if (LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf(this.conf.logLevel)) return;
    this.request.log.debug(message, { level, ...fields });
  }

  /** A network by reference (clusterNetwork, defaultNetworks): a path, a NAD, or a configuration name. */
  async resolveReference(reference: string): Promise<{ network: string; list: NetworkConfigList }> {
    if (!reference.startsWith('/')) {
      const nads = await this.nads();
      const nad = await nads?.getNad(this.conf.multinetNamespace, reference);
      if (nad) {
        const list = resolveNadConfig(nad, { confDir: this.conf.confDir, cniVersion: this.conf.cniVersion });
        return { network: `${this.conf.multinetNamespace}/${reference}`, list };
      }
    }
    const list = loadNetworkByPathOrName(reference, this.conf.confDir);
    return { network: list.name, list };
  }

  /** A selected network: its NAD, resolved as spec §3.4 says. */
  async resolveSelection(selection: NetworkSelection): Promise<NetworkConfigList> {
    const label = `${selection.namespace}/${selection.name}`;
    const nads = await this.nads();
    if (!nads) throw new MultinetError(`network "${label}": no NetworkAttachmentDefinitions available (set "kubeconfig" or "nadDir")`);
    const nad = await nads.getNad(selection.namespace, selection.name);
    if (!nad) throw new MultinetError(`network "${label}": NetworkAttachmentDefinition not found`);
    return resolveNadConfig({ ...nad, metadata: { ...nad.metadata, namespace: selection.namespace } }, {
      confDir: this.conf.confDir,
      cniVersion: this.conf.cniVersion,
    });
  }

  /** Spec §7.4: under namespace isolation a pod uses only its own namespace's and the global NADs. */
  checkIsolation(pod: PodRef | undefined, selection: NetworkSelection): void {
    if (!this.conf.namespaceIsolation || !pod) return;
    if (selection.namespace === pod.namespace || this.conf.globalNamespaces.includes(selection.namespace)) return;
    throw new MultinetError(
      `pod "${pod.namespace}/${pod.name}" may not use network "${selection.namespace}/${selection.name}": namespaceIsolation allows only its own namespace and [${this.conf.globalNamespaces.join(' ')}]`,
    );
  }

  /** The pod of this request (from CNI_ARGS), with its annotations from the API or the runtime. */
  async pod(): Promise<{ ref: PodRef | undefined; annotations: Record<string, string>; fromApi: boolean }> {
    const args = this.request.args;
    const namespace = args.K8S_POD_NAMESPACE;
    const name = args.K8S_POD_NAME;
    const ref: PodRef | undefined = namespace && name ? { namespace, name, ...(args.K8S_POD_UID ? { uid: args.K8S_POD_UID } : {}) } : undefined;
    const kube = await this.kube();
    if (kube && ref) {
      let pod: Pod | undefined;
      try {
        pod = await kube.getPod(ref.namespace, ref.name);
      } catch (error) {
        throw new MultinetError(`failed to get pod "${ref.namespace}/${ref.name}": ${errorText(error)}`, { code: CNI_ERROR_CODES.TRY_AGAIN_LATER, cause: error });
      }
      // Multus answers a missing pod with a fake success; a pod silently without its networks is worse.
      if (!pod) throw new MultinetError(`pod "${ref.namespace}/${ref.name}" not found`, { code: CNI_ERROR_CODES.TRY_AGAIN_LATER });
      if (ref.uid && pod.metadata.uid && pod.metadata.uid !== ref.uid) {
        throw new MultinetError(`pod "${ref.namespace}/${ref.name}" has UID ${pod.metadata.uid}, not ${ref.uid}: the pod was replaced`, {
          code: CNI_ERROR_CODES.TRY_AGAIN_LATER,
        });
      }
      return { ref, annotations: pod.metadata.annotations ?? {}, fromApi: true };
    }
    const fromRuntime = this.conf.runtimeConfig[POD_ANNOTATIONS_CAPABILITY];
    return { ref, annotations: runtimeAnnotations(fromRuntime), fromApi: false };
  }

  /** Every attachment of the pod, in order, resolved and checked before anything runs. */
  async plan(pod: { ref: PodRef | undefined; annotations: Record<string, string> }): Promise<Planned[]> {
    const { conf } = this;
    const planned: Omit<Planned, 'ifName'>[] = [];
    const podNamespace = pod.ref?.namespace ?? 'default';

    // The cluster default network first (spec §6.2): the annotation's override, else the configured one.
    const override = pod.annotations[DEFAULT_NETWORK_ANNOTATION];
    // The runtime's own runtimeConfig goes to the default network only (spec §7.5).
    const runtimeArgs = Object.fromEntries(Object.entries(conf.runtimeConfig).filter(([key]) => key !== POD_ANNOTATIONS_CAPABILITY));
    if (override !== undefined && override.trim() !== '') {
      const selection = parseDefaultNetworkAnnotation(override, conf.multinetNamespace);
      this.checkIsolation(pod.ref, selection);
      planned.push({ network: `${selection.namespace}/${selection.name}`, list: await this.resolveSelection(selection), capabilityArgs: runtimeArgs, isDefault: true, selection: undefined, extraArgs: [] });
    } else if (conf.clusterNetwork !== undefined) {
      const { network, list } = await this.resolveReference(conf.clusterNetwork);
      planned.push({ network, list, capabilityArgs: runtimeArgs, isDefault: true, selection: undefined, extraArgs: [] });
    } else {
      const first = conf.delegates[0] as NetworkConfigList;
      planned.push({ network: first.name, list: first, capabilityArgs: runtimeArgs, isDefault: true, selection: undefined, extraArgs: [] });
    }

    if (!pod.ref || !conf.systemNamespaces.includes(pod.ref.namespace)) {
      if (conf.clusterNetwork === undefined) {
        for (const list of conf.delegates.slice(1)) planned.push({ network: list.name, list, capabilityArgs: {}, isDefault: false, selection: undefined, extraArgs: [] });
      }
      for (const reference of conf.defaultNetworks) {
        const { network, list } = await this.resolveReference(reference);
        planned.push({ network, list, capabilityArgs: {}, isDefault: false, selection: undefined, extraArgs: [] });
      }
    }

    const selections = parseNetworkSelection(pod.annotations[NETWORKS_ANNOTATION] ?? '', podNamespace);
    let devices: DeviceAllocator | undefined;
    for (const selection of selections) {
      this.checkIsolation(pod.ref, selection);
      const label = `${selection.namespace}/${selection.name}`;
      let list = await this.resolveSelection(selection);
      const capabilityArgs = selectionCapabilities(selection);
      // Spec §4.1.2: a network whose plugins do not declare a requested capability MUST fail.
      for (const capability of Object.keys(capabilityArgs)) {
        if (!list.plugins.some((plugin) => plugin.network.capabilities?.[capability] === true)) {
          throw new MultinetError(`network "${label}": the selection asks for "${capability}" but no plugin of the network declares that capability`);
        }
      }
      if (selection.cniArgs) list = withCniArgs(list, selection.cniArgs);
      let deviceInfo: Record<string, unknown> | undefined;
      // A NAD with a device-plugin resource: this attachment gets the next device the kubelet allocated.
      const resourceName = (await (await this.nads())?.getNad(selection.namespace, selection.name))?.metadata.annotations?.[RESOURCE_NAME_ANNOTATION];
      if (resourceName) {
        devices ??= new DeviceAllocator({ namespace: podNamespace, name: pod.ref?.name ?? '', ...(pod.ref?.uid ? { uid: pod.ref.uid } : {}) }, this.options.devices);
        const deviceId = await devices.next(resourceName).catch((error: unknown) => {
          throw new MultinetError(`network "${label}": ${errorText(error)}`, { cause: error });
        });
        const withDevice = withDeviceId(list, deviceId);
        list = withDevice.list;
        Object.assign(capabilityArgs, withDevice.capabilityArgs);
        deviceInfo = readDeviceInfo(resourceName, deviceId, this.options.devices?.deviceInfoDir);
      }
      planned.push({ network: label, list, capabilityArgs, isDefault: false, selection, deviceInfo, extraArgs: selectionArgs(selection) });
    }

    // Interface names: the runtime's for the default network, then explicit or net<position>.
    const used = new Set<string>();
    return planned.map((entry, index) => {
      const ifName = index === 0 ? this.request.ifName : (entry.selection?.interface ?? `net${index}`);
      if (used.has(ifName)) throw new MultinetError(`network "${entry.network}": interface "${ifName}" is already used by an earlier attachment`);
      used.add(ifName);
      return { ...entry, ifName };
    });
  }

  /** Fail before the first ADD when a plugin of any network is not installed (delegates in-process excepted). */
  assertInstalled(planned: readonly Planned[]): void {
    const inProcess = this.options.inProcess?.plugins ?? {};
    for (const entry of planned) {
      for (const plugin of entry.list.plugins) {
        // The IPAM plugin too: the delegate looks it up in the same CNI_PATH.
        const ipam = (plugin.network as { ipam?: { type?: unknown } }).ipam?.type;
        for (const type of [plugin.network.type, ...(typeof ipam === 'string' && ipam !== '' ? [ipam] : [])]) {
          if (Object.hasOwn(inProcess, type)) continue;
          try {
            this.exec.findInPath(type, this.cni.path);
          } catch {
            throw new MultinetError(`network "${entry.network}": plugin "${type}" is not installed in [${this.cni.path.join(' ')}]`, {
              code: CNI_ERROR_CODES.INVALID_NETWORK_CONFIG,
            });
          }
        }
      }
    }
  }

  runtime(attachment: Pick<CachedAttachment, 'ifName' | 'args' | 'capabilityArgs'>, netns: string, containerId = this.request.containerId): RuntimeConf {
    return { containerId, netns, ifName: attachment.ifName, args: attachment.args, capabilityArgs: attachment.capabilityArgs };
  }

  /** DEL each attachment of a container (this request's by default), last first, going on past failures; resolves to the failures. */
  async deleteAll(attachments: readonly CachedAttachment[], netns: string, containerId = this.request.containerId): Promise<string[]> {
    const failures: string[] = [];
    for (const attachment of [...attachments].reverse()) {
      try {
        await this.cni.delNetworkList(confListFromBytes(attachment.config), this.runtime(attachment, netns, containerId));
        this.log('verbose', 'deleted attachment', { network: attachment.network, ifName: attachment.ifName });
      } catch (error) {
        failures.push(`network "${attachment.network}" (${attachment.ifName}): ${errorText(error)}`);
      }
    }
    return failures;
  }

  /**
   * Undo the attachment whose ADD just failed: DEL of its whole list. When a plugin refused the
   * configuration in ADD and refuses it again in DEL (see {@link refusedAt}), it acted on nothing;
   * a DEL that stops at it would leave the plugins before it in the list in place, and keep the
   * record for a runtime DEL that can only fail the same way. Then only the plugins before it are
   * deleted. Returns the failure texts, as {@link deleteAll} does.
   */
  async undoFailed(attachment: CachedAttachment, addError: unknown, netns: string): Promise<string[]> {
    const runtime = this.runtime(attachment, netns);
    const list = confListFromBytes(attachment.config);
    try {
      await this.cni.delNetworkList(list, runtime);
      return [];
    } catch (delError) {
      const at = refusedAt(list, addError, delError);
      const failure = `network "${attachment.network}" (${attachment.ifName}): ${errorText(delError)}`;
      if (at === undefined) return [failure];
      this.log('debug', 'plugin refused the configuration in ADD and DEL: deleting only the plugins before it', { network: attachment.network, plugin: list.plugins[at]?.network.type });
      if (at === 0) return [];
      const raw = JSON.parse(attachment.config) as { plugins: unknown[] };
      try {
        await this.cni.delNetworkList(confListFromBytes(JSON.stringify({ ...raw, plugins: raw.plugins.slice(0, at) })), runtime);
        return [];
      } catch (error) {
        return [`network "${attachment.network}" (${attachment.ifName}): ${errorText(error)}`];
      }
    }
  }

  async waitReady(): Promise<void> {
    const file = this.conf.readinessindicatorfile;
    if (!file) return;
    const deadline = Date.now() + (this.options.readinessTimeoutMs ?? 45_000);
    while (!existsSync(file)) {
      if (Date.now() >= deadline) {
        throw new MultinetError(`the default network is not ready: readiness indicator file "${file}" does not exist`, { code: CNI_ERROR_CODES.TRY_AGAIN_LATER });
      }
      await sleep(100);
    }
  }
}

/**
 * Every network's `cniVersion` is a version, checked before the record is written: libcni's DEL
 * of a list whose version does not parse fails, so the runtime's DEL could never undo it.
 */
function assertVersions(planned: readonly Planned[]): void {
  for (const entry of planned) {
    try {
      compareVersions(effectiveVersion(entry.list.cniVersion), '0.1.0');
    } catch {
      throw new MultinetError(`network "${entry.network}": invalid cniVersion ${JSON.stringify(entry.list.cniVersion)}`, { code: CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION });
    }
  }
}

/**
 * The pod's annotations as containerd passes them in runtimeConfig (Kubernetes' map of strings).
 * A value of another type is refused, never skipped: a skipped networks annotation would start
 * the pod without the networks it asked for.
 */
function runtimeAnnotations(value: unknown): Record<string, string> {
  const key = `runtimeConfig[${JSON.stringify(POD_ANNOTATIONS_CAPABILITY)}]`;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new MultinetError(`invalid ${key} ${JSON.stringify(value)}: must be an object of strings`);
  const annotations: Record<string, string> = {};
  for (const [name, text] of Object.entries(value)) {
    if (typeof text !== 'string') throw new MultinetError(`invalid ${key}[${JSON.stringify(name)}] ${JSON.stringify(text)}: must be a string`);
    annotations[name] = text;
  }
  return annotations;
}

/** Codes with which a plugin refuses a configuration before acting on it. */
const REFUSAL_CODES: readonly number[] = [CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, CNI_ERROR_CODES.UNSUPPORTED_FIELD, CNI_ERROR_CODES.INVALID_NETWORK_CONFIG];

/**
 * The index in `list` of the plugin that refused its configuration in ADD (`addError`) and DEL
 * (`delError`): the same configuration code, or the same code and message; undefined when that is not what happened or the plugin's
 * type is in the list twice (which one refused is then unknown).
 */
function refusedAt(list: NetworkConfigList, addError: unknown, delError: unknown): number | undefined {
  if (!PluginError.isInstance(addError) || !PluginError.isInstance(delError)) return undefined;
  const code = addError.code;
  if (addError.pluginType !== delError.pluginType || code !== delError.code || code === undefined) return undefined;
  // Any code, when ADD and DEL failed with the very same words: they stopped at the same point,
  // which DEL (that must succeed when there is nothing to undo) reaches only before acting, in
  // reading the configuration (host-local's range errors are 999, as upstream's).
  if (!REFUSAL_CODES.includes(code) && addError.pluginError.message !== delError.pluginError.message) return undefined;
  const indexes = list.plugins.flatMap((plugin, index) => (plugin.network.type === addError.pluginType ? [index] : []));
  return indexes.length === 1 ? indexes[0] : undefined;
}

function toCached(entry: Planned, args: [string, string][]): CachedAttachment {
  // The attachment's own pairs replace the runtime's of the same key (an IP= meant for the default network).
  const own = entry.extraArgs;
  const base = args.filter(([key]) => !own.some(([mine]) => mine === key));
  return {
    network: entry.network,
    ifName: entry.ifName,
    config: Buffer.from(entry.list.bytes).toString('utf8'),
    // IgnoreUnknown first when the attachment's own pairs make the list non-empty.
    args: own.length === 0 ? args : base.length === 0 ? [['IgnoreUnknown', '1'], ...own] : [...base, ...own],
    capabilityArgs: entry.capabilityArgs,
    isDefault: entry.isDefault,
  };
}

async function withSession<P, T>(request: PluginRequest, options: MultinetOptions<P>, run: (session: Session<P>) => Promise<T>): Promise<T> {
  const session = new Session(request, options);
  try {
    return await run(session);
  } finally {
    session.close();
  }
}

async function add<P>(session: Session<P>): Promise<Result> {
  const { request, conf } = session;
  await session.waitReady();
  const pod = await session.pod();
  const planned = await session.plan(pod);
  session.assertInstalled(planned);
  assertVersions(planned);
  const args = argPairs(request.argsString);
  const attachments = planned.map((entry) => toCached(entry, args));
  const record: AttachmentRecord = {
    containerId: request.containerId,
    netns: request.netns,
    ifName: request.ifName,
    ...(pod.ref ? { pod: pod.ref } : {}),
    attachments,
  };
  // Written before the first delegate runs, so a crash mid-ADD still leaves DEL everything to undo.
  writeAttachmentCache(conf.cniDir, record);
  session.log('debug', 'planned attachments', { attachments: attachments.map((a) => `${a.network}@${a.ifName}`) });

  const rollback = async (upTo: number, cause: string, addError?: unknown): Promise<never> => {
    session.log('error', 'ADD failed, rolling back', { cause });
    const failed = attachments[upTo] as CachedAttachment;
    const failures = addError === undefined ? await session.deleteAll(attachments.slice(0, upTo + 1), request.netns) : [
      ...(await session.undoFailed(failed, addError, request.netns)),
      ...(await session.deleteAll(attachments.slice(0, upTo), request.netns)),
    ];
    if (failures.length === 0) deleteAttachmentCache(conf.cniDir, request.containerId);
    else session.log('error', 'rollback left attachments behind; the cache stays for DEL', { failures });
    throw new MultinetError(failures.length === 0 ? cause : `${cause}; rollback failed: ${failures.join('; ')}`);
  };

  const results: Result[] = [];
  for (const [index, entry] of planned.entries()) {
    try {
      results.push(await session.cni.addNetworkList(entry.list, session.runtime(attachments[index] as CachedAttachment, request.netns)));
      session.log('verbose', 'added attachment', { network: entry.network, ifName: entry.ifName });
    } catch (error) {
      const cause = `failed to add network "${entry.network}" as "${entry.ifName}": ${errorText(error)}`;
      await rollback(index, cause, error).catch((wrapped: unknown) => {
        throw new MultinetError((wrapped as Error).message, { code: codeOf(error), cause: error });
      });
    }
  }

  const routeOwner = planned.findIndex((entry) => entry.selection?.defaultRoute !== undefined);
  if (routeOwner > 0) {
    const owner = planned[routeOwner] as Planned;
    const gateways = owner.selection?.defaultRoute ?? [];
    try {
      await applyDefaultRoute(request.netns, owner.ifName, gateways);
      // The results (cached for CHECK, and the one returned) say where the default route now is.
      for (const [index, entry] of planned.entries()) {
        const moved = moveDefaultRoutes(results[index] as Result, index === routeOwner ? gateways : []);
        results[index] = moved;
        rewriteCachedResult(conf.cniDir, entry, session.runtime(attachments[index] as CachedAttachment, request.netns), moved);
      }
    } catch (error) {
      await rollback(planned.length - 1, `failed to move the default route to "${owner.ifName}": ${errorText(error)}`);
    }
  }

  const kube = await session.kube();
  if (kube && pod.fromApi && pod.ref) {
    const statuses = planned.map((entry, index) =>
      networkStatus({ name: entry.network, isDefault: entry.isDefault, result: results[index], defaultRoute: entry.selection?.defaultRoute, deviceInfo: entry.deviceInfo }),
    );
    try {
      await kube.patchPodAnnotation(pod.ref.namespace, pod.ref.name, NETWORK_STATUS_ANNOTATION, JSON.stringify(statuses));
    } catch (error) {
      await rollback(planned.length - 1, `failed to set the ${NETWORK_STATUS_ANNOTATION} annotation of pod "${pod.ref.namespace}/${pod.ref.name}": ${errorText(error)}`);
    }
  }
  return results[0] as Result;
}

const isDefaultDst = (dst: string) => dst === '0.0.0.0/0' || dst === '::/0';

/** `result` without its default routes, plus one through each of `gateways` (one per family). */
function moveDefaultRoutes(result: Result, gateways: readonly string[]): Result {
  const copy = JSON.parse(JSON.stringify(result)) as Record<string, unknown> & {
    routes?: { dst: string; gw?: string }[];
    ip4?: { routes?: { dst: string }[] };
    ip6?: { routes?: { dst: string }[] };
  };
  if (copy.ip4?.routes) copy.ip4.routes = copy.ip4.routes.filter((route) => !isDefaultDst(route.dst));
  if (copy.ip6?.routes) copy.ip6.routes = copy.ip6.routes.filter((route) => !isDefaultDst(route.dst));
  const legacy = copy.ip4 !== undefined || copy.ip6 !== undefined;
  if (copy.routes || (!legacy && gateways.length > 0)) {
    const routes = (copy.routes ?? []).filter((route) => !isDefaultDst(route.dst));
    const families = new Set<string>();
    for (const gateway of gateways) {
      const dst = gateway.includes(':') ? '::/0' : '0.0.0.0/0';
      if (families.has(dst)) continue;
      families.add(dst);
      routes.push({ dst, gw: gateway });
    }
    copy.routes = routes;
  }
  return copy as unknown as Result;
}

/** Put `result` into libcni's cache record of an attachment, so that CHECK and DEL read what is true. */
function rewriteCachedResult(cniDir: string, entry: Planned, rt: RuntimeConf, result: Result): void {
  const file = cacheFilePath(cniDir, entry.list.name, rt);
  const record = JSON.parse(readFileSync(file, 'utf8')) as CacheFileV1;
  writeCache(cniDir, { ...record, result: result as unknown as Record<string, unknown> });
}

/** The attachments of a container when multinet's own record is gone: libcni's result cache. */
function fromResultCache<P>(session: Session<P>): CachedAttachment[] {
  const cached = session.cni.getCachedAttachments(session.request.containerId);
  const attachments = cached.map((entry) => ({
    network: entry.network,
    ifName: entry.ifName,
    config: Buffer.from(entry.config).toString('utf8'),
    args: entry.cniArgs ?? [],
    capabilityArgs: entry.capabilityArgs ?? {},
    isDefault: entry.ifName === session.request.ifName,
  }));
  // The default network was added first, so it goes last.
  return attachments.sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.ifName.localeCompare(b.ifName, 'en', { numeric: true }));
}

/**
 * The attachments of a container when no cache knows them (a wiped cniDir): planned again from the
 * pod, if the API server answers and the pod still exists; otherwise there is nothing to delete.
 */
async function fromApi<P>(session: Session<P>): Promise<CachedAttachment[]> {
  if (!session.request.args.K8S_POD_NAME || !(await session.kube().catch(() => undefined))) return [];
  try {
    const planned = await session.plan(await session.pod());
    session.log('debug', 'no cache: attachments planned again from the pod', { attachments: planned.length });
    const args = argPairs(session.request.argsString);
    return planned.map((entry) => toCached(entry, args));
  } catch (error) {
    session.log('verbose', 'no cache and the pod cannot be read: nothing to delete', { reason: errorText(error) });
    return [];
  }
}

async function del<P>(session: Session<P>): Promise<void> {
  const { request, conf } = session;
  const read = readAttachmentCache(conf.cniDir, request.containerId);
  let attachments: CachedAttachment[];
  if (read.state === 'ok') {
    attachments = read.record.attachments;
  } else {
    // DEL never depends on the API server or on an intact record: libcni's cache has every attachment that was added.
    if (read.state === 'corrupt') session.log('error', 'attachment cache unreadable, using the result cache', { reason: read.reason });
    attachments = fromResultCache(session);
    if (attachments.length === 0) attachments = await fromApi(session);
  }
  const failures = await session.deleteAll(attachments, request.netns);
  if (failures.length > 0) {
    throw new MultinetError(`failed to delete ${failures.length} of ${attachments.length} attachments: ${failures.join('; ')}`, { code: CNI_ERROR_CODES.INTERNAL });
  }
  deleteAttachmentCache(conf.cniDir, request.containerId);
}

async function check<P>(session: Session<P>): Promise<void> {
  const { request, conf } = session;
  const read = readAttachmentCache(conf.cniDir, request.containerId);
  if (read.state !== 'ok') {
    throw new MultinetError(`no attachments recorded for container "${request.containerId}"${read.state === 'corrupt' ? ` (${read.reason})` : ''}`, {
      code: CNI_ERROR_CODES.UNKNOWN_CONTAINER,
    });
  }
  const failures: string[] = [];
  for (const attachment of read.record.attachments) {
    const list = confListFromBytes(attachment.config);
    // CHECK does not exist before 0.4.0: such a network has nothing to answer, which is not a failure.
    if (!specVersionHas('check', list.cniVersion)) continue;
    try {
      await session.cni.checkNetworkList(list, session.runtime(attachment, request.netns));
    } catch (error) {
      failures.push(`network "${attachment.network}" (${attachment.ifName}): ${errorText(error)}`);
    }
  }
  if (failures.length > 0) throw new MultinetError(`check failed: ${failures.join('; ')}`, { code: CNI_ERROR_CODES.INTERNAL });
}

async function gc<P>(session: Session<P>): Promise<void> {
  const { conf, request } = session;
  const raw = (request.conf as unknown as Record<string, unknown>)['cni.dev/valid-attachments'];
  const valid = new Set((Array.isArray(raw) ? (raw as GcAttachment[]) : []).map((entry) => entry.containerID));
  const failures: string[] = [];
  const keep: GcAttachment[] = [];
  const lists = new Map<string, NetworkConfigList>();
  for (const containerId of listAttachmentCaches(conf.cniDir)) {
    const read = readAttachmentCache(conf.cniDir, containerId);
    if (read.state !== 'ok') continue;
    if (valid.has(containerId)) {
      for (const attachment of read.record.attachments) {
        keep.push({ containerID: containerId, ifname: attachment.ifName });
        const list = confListFromBytes(attachment.config);
        lists.set(`${list.name}\0${attachment.config}`, list);
      }
      continue;
    }
    const left = await session.deleteAll(read.record.attachments, read.record.netns, containerId);
    if (left.length === 0) deleteAttachmentCache(conf.cniDir, containerId);
    failures.push(...left.map((text) => `container "${containerId}": ${text}`));
  }
  // Every network gets GC, not only the cluster network, so secondary IPAM reclaims its leases too.
  try {
    for (const reference of [...(conf.clusterNetwork ? [conf.clusterNetwork] : []), ...conf.defaultNetworks]) {
      const { list } = await session.resolveReference(reference);
      lists.set(`${list.name}\0${Buffer.from(list.bytes).toString('utf8')}`, list);
    }
  } catch (error) {
    failures.push(errorText(error));
  }
  for (const list of conf.delegates) lists.set(`${list.name}\0${Buffer.from(list.bytes).toString('utf8')}`, list);
  for (const list of lists.values()) {
    try {
      await session.cni.gcNetworkList(list, { validAttachments: keep });
    } catch (error) {
      failures.push(`network "${list.name}": ${errorText(error)}`);
    }
  }
  if (failures.length > 0) throw new MultinetError(`gc failed: ${failures.join('; ')}`, { code: CNI_ERROR_CODES.INTERNAL });
}

async function status<P>(session: Session<P>): Promise<void> {
  const { conf } = session;
  const file = conf.readinessindicatorfile;
  if (file && !existsSync(file)) {
    throw new MultinetError(`readiness indicator file "${file}" does not exist`, { code: CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE });
  }
  const lists: { network: string; list: NetworkConfigList }[] = [];
  if (conf.clusterNetwork) lists.push(await session.resolveReference(conf.clusterNetwork));
  else lists.push(...conf.delegates.map((list) => ({ network: list.name, list })));
  for (const reference of conf.defaultNetworks) lists.push(await session.resolveReference(reference));
  const failures: { text: string; code: number }[] = [];
  for (const { network, list } of lists) {
    try {
      await session.cni.getStatusNetworkList(list);
    } catch (error) {
      failures.push({ text: `network "${network}": ${errorText(error)}`, code: codeOf(error) });
    }
  }
  if (failures.length > 0) {
    // The default network's code leads: 50 (not available) or 51 (limited connectivity).
    const code = failures[0]?.code === 51 ? 51 : CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE;
    throw new MultinetError(failures.map((f) => f.text).join('; '), { code });
  }
}

/**
 * Make the multinet plugin with its delegates run by `options` (executables from binDir and
 * CNI_PATH by default, plugin values in-process when given).
 */
export function createMultinet<P = never>(options: MultinetOptions<P> = {}): CniPlugin {
  return definePlugin({
    name: 'multinet',
    versions: ALL_SPEC_VERSIONS,
    add: (request) => withSession(request, options, add),
    del: (request) => withSession(request, options, del),
    check: (request) => withSession(request, options, check),
    gc: (request) => withSession(request, options, gc),
    status: (request) => withSession(request, options, status),
  });
}

/**
 * The multinet meta plugin: attaches a pod to its cluster default network and then to every
 * network its `k8s.v1.cni.cncf.io/networks` annotation selects, as the Network Plumbing WG's
 * multi-network specification defines it.
 */
export const multinet: CniPlugin = createMultinet();
