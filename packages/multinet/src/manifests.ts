// SPDX-License-Identifier: Apache-2.0
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { errorText, MultinetError } from './errors.ts';
import { NAD_KIND, toNad, type NadSource, type NetworkAttachmentDefinition } from './nad.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The NADs of one manifest file: YAML or JSON, one or several documents (`---`), each a NAD, a
 * `List`/`NetworkAttachmentDefinitionList` with `items`, or (JSON) an array of them. Other
 * kinds (a CRD or a pod in the same file) are skipped.
 */
export function parseNadManifests(text: string, source = 'manifest'): NetworkAttachmentDefinition[] {
  const found: NetworkAttachmentDefinition[] = [];
  const visit = (value: unknown, where: string): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${where}[${i}]`));
      return;
    }
    if (!isRecord(value)) throw new MultinetError(`invalid NetworkAttachmentDefinition in ${where}: not an object`);
    if (Array.isArray(value.items) && (value.kind === 'List' || value.kind === `${NAD_KIND}List`)) {
      visit(value.items, `${where}.items`);
      return;
    }
    if (value.kind !== undefined && value.kind !== NAD_KIND) return;
    found.push(toNad(value, where));
  };
  const documents = parseAllDocuments(text);
  const list = Array.isArray(documents) ? documents : [documents];
  list.forEach((document, i) => {
    if (document.errors.length > 0) {
      throw new MultinetError(`cannot parse ${source}: ${document.errors[0]?.message ?? 'invalid YAML'}`);
    }
    visit(document.toJS(), list.length > 1 ? `${source} (document ${i + 1})` : source);
  });
  return found;
}

/**
 * NADs from a folder of manifests (`*.yaml`, `*.yml`, `*.json`, read in name order), for
 * runtimes without Kubernetes. A NAD without a namespace is in `defaultNamespace`; a later
 * file's NAD of the same namespace and name replaces an earlier one.
 */
export function loadNadDirectory(dir: string, defaultNamespace = 'default'): Map<string, NetworkAttachmentDefinition> {
  const nads = new Map<string, NetworkAttachmentDefinition>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /\.(ya?ml|json)$/u.test(name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return nads;
    throw new MultinetError(`failed to read NAD directory "${dir}": ${errorText(error)}`, { code: 5 });
  }
  for (const name of names) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    for (const nad of parseNadManifests(readFileSync(file, 'utf8'), file)) {
      nads.set(`${nad.metadata.namespace ?? defaultNamespace}/${nad.metadata.name}`, nad);
    }
  }
  return nads;
}

/** A {@link NadSource} over a folder of manifests, read once when first asked. */
export function nadDirectorySource(dir: string, defaultNamespace = 'default'): NadSource {
  let nads: Map<string, NetworkAttachmentDefinition> | undefined;
  return {
    getNad: async (namespace, name) => {
      nads ??= loadNadDirectory(dir, defaultNamespace);
      return nads.get(`${namespace}/${name}`);
    },
  };
}
