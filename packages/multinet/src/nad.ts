// SPDX-License-Identifier: Apache-2.0
import { readFileSync, statSync } from 'node:fs';
import {
  confFiles,
  confListFromBytes,
  confListFromFile,
  confListFromConf,
  loadConfList,
  NetworkNotFoundError,
  pluginConfFromBytes,
  type NetworkConfigList,
} from '@cni/libcni';
import { errorText, MultinetError } from './errors.ts';

/** The API group, version and kind of a NetworkAttachmentDefinition (spec §3.1). */
export const NAD_API_VERSION = 'k8s.cni.cncf.io/v1';
/** The kind of a NetworkAttachmentDefinition. */
export const NAD_KIND = 'NetworkAttachmentDefinition';
/**
 * The key under which the NAD's annotations reach a delegate whose NAD config names only a
 * plugin type (the form vendors such as Tungsten Fabric document, with the subnet in
 * `opencontrail.org/*` annotations): the plugin then finds them in its own configuration.
 */
export const NAD_ANNOTATIONS_KEY = 'nadAnnotations';

/** A NetworkAttachmentDefinition object, as the API serves it or a manifest holds it. */
export interface NetworkAttachmentDefinition {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  /** Absent, or `config`: a CNI configuration or configuration list, JSON-encoded. */
  spec?: { config?: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Check that `value` is a NetworkAttachmentDefinition and return it typed; `source` names
 * where it came from in the error.
 */
export function toNad(value: unknown, source: string): NetworkAttachmentDefinition {
  const fail = (why: string) => new MultinetError(`invalid NetworkAttachmentDefinition in ${source}: ${why}`);
  if (!isRecord(value)) throw fail('not an object');
  if (value.kind !== undefined && value.kind !== NAD_KIND) throw fail(`kind ${JSON.stringify(value.kind)} is not ${NAD_KIND}`);
  const metadata = value.metadata;
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') throw fail('metadata.name is missing');
  if (metadata.namespace !== undefined && typeof metadata.namespace !== 'string') throw fail('metadata.namespace must be a string');
  if (metadata.annotations !== undefined && metadata.annotations !== null) {
    if (!isRecord(metadata.annotations) || !Object.values(metadata.annotations).every((v) => typeof v === 'string')) {
      throw fail('metadata.annotations must map strings to strings');
    }
  }
  if (value.spec !== undefined && value.spec !== null) {
    if (!isRecord(value.spec)) throw fail('spec must be an object');
    if (value.spec.config !== undefined && typeof value.spec.config !== 'string') throw fail('spec.config must be a string');
  }
  return value as unknown as NetworkAttachmentDefinition;
}

/** Where NADs come from: the Kubernetes API or a folder of manifests. */
export interface NadSource {
  /** The NAD `namespace/name`, or undefined when there is none. */
  getNad(namespace: string, name: string): Promise<NetworkAttachmentDefinition | undefined>;
}

/** Options of {@link resolveNadConfig}. */
export interface ResolveOptions {
  /** Where on-disk configurations are searched when the NAD has no `spec.config` (§3.4.1). */
  confDir: string;
  /** The version given to a config that names none (the vendor form names only a type). */
  cniVersion: string;
}

/** True for a config whose only keys are `type` and perhaps `cniVersion`/`name`: the vendor form. */
function isTypeOnly(config: Record<string, unknown>): boolean {
  return Object.keys(config).every((key) => key === 'type' || key === 'cniVersion' || key === 'name');
}

/**
 * The configuration list of a NAD, as spec §3.4 defines it: `spec.config` (a config or a
 * list, its `name` injected when missing) or, without one, the on-disk list then the on-disk
 * config whose name is the NAD's name; else an error. A config that names only a plugin type
 * gets `cniVersion` when it has none, and the NAD's annotations under {@link NAD_ANNOTATIONS_KEY}.
 */
export function resolveNadConfig(nad: NetworkAttachmentDefinition, options: ResolveOptions): NetworkConfigList {
  const { name } = nad.metadata;
  const label = `${nad.metadata.namespace ?? ''}${nad.metadata.namespace ? '/' : ''}${name}`;
  const text = nad.spec?.config?.trim() ?? '';
  if (text === '') {
    try {
      return loadConfList(options.confDir, name);
    } catch (error) {
      if (error instanceof NetworkNotFoundError) {
        throw new MultinetError(
          `network "${label}" has no spec.config and no configuration named "${name}" in "${options.confDir}"`,
          { cause: error },
        );
      }
      throw new MultinetError(`network "${label}": ${errorText(error)}`, { cause: error });
    }
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new MultinetError(`network "${label}": spec.config is not JSON: ${errorText(error)}`);
  }
  if (!isRecord(config)) throw new MultinetError(`network "${label}": spec.config must be a JSON object`);
  const withName: Record<string, unknown> = { ...config, name: typeof config.name === 'string' && config.name !== '' ? config.name : name };
  try {
    if (Array.isArray(config.plugins)) return confListFromBytes(JSON.stringify(withName));
    if (typeof withName.cniVersion !== 'string' || withName.cniVersion === '') withName.cniVersion = options.cniVersion;
    const annotations = nad.metadata.annotations ?? {};
    if (isTypeOnly(config) && Object.keys(annotations).length > 0) withName[NAD_ANNOTATIONS_KEY] = { ...annotations };
    return confListFromConf(pluginConfFromBytes(JSON.stringify(withName)));
  } catch (error) {
    throw new MultinetError(`network "${label}": invalid spec.config: ${errorText(error)}`, { cause: error });
  }
}

/**
 * A network given by path or name, as `clusterNetwork` and `defaultNetworks` may be: an
 * absolute `.conflist`/`.conf`/`.json` file, an absolute folder (its first file in name
 * order, conflists first), or the name of a configuration in `confDir`.
 */
export function loadNetworkByPathOrName(reference: string, confDir: string): NetworkConfigList {
  if (reference.startsWith('/')) {
    let stat;
    try {
      stat = statSync(reference);
    } catch (error) {
      throw new MultinetError(`network "${reference}": ${errorText(error)}`, { code: 5 });
    }
    if (stat.isDirectory()) {
      const files = [...confFiles(reference, ['.conflist']).sort(), ...confFiles(reference, ['.conf', '.json']).sort()];
      const first = files[0];
      if (first === undefined) throw new MultinetError(`network "${reference}": no configuration file in the folder`);
      return loadNetworkByPathOrName(first, confDir);
    }
    try {
      if (reference.endsWith('.conflist')) return confListFromFile(reference);
      return confListFromConf(pluginConfFromBytes(readFileSync(reference), reference), reference);
    } catch (error) {
      throw new MultinetError(`network "${reference}": ${errorText(error)}`, { cause: error });
    }
  }
  try {
    return loadConfList(confDir, reference);
  } catch (error) {
    throw new MultinetError(`network "${reference}": ${errorText(error)}`, { cause: error });
  }
}
