// SPDX-License-Identifier: Apache-2.0
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorText, MultinetError } from './errors.ts';
import { NAD_KIND, toNad, type NadSource, type NetworkAttachmentDefinition } from './nad.ts';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads every document of a YAML stream, as js-yaml's loadAll does. */
type LoadAll = (text: string) => unknown[];

let yamlLoader: Promise<LoadAll> | undefined;

/**
 * js-yaml, loaded on first use only: multinet starts for every pod, and most folders hold no YAML.
 * js-yaml reads what Go's YAML reader (kubectl) reads, notably a multi-line single-quoted
 * `spec.config` whose closing `}'` is less indented than `config:` (the form the Multus docs print),
 * which a strict YAML 1.2 parser refuses.
 */
function loadYaml(): Promise<LoadAll> {
  yamlLoader ??= import('js-yaml').then((module) => {
    const jsYaml = ((module as { default?: unknown }).default ?? module) as { loadAll: LoadAll };
    return (text: string) => jsYaml.loadAll(text);
  });
  return yamlLoader;
}

/** Where in a file a NAD (or a document that could not be read) is. */
export interface NadOrigin {
  readonly file: string;
  /** The 1-based line where its document starts, or where the parser stopped. */
  readonly line: number;
}

/** A document of a manifest file that could not be read, with the NADs it seems to hold. */
export interface BrokenManifest extends NadOrigin {
  /** What the parser or the NAD check said. */
  readonly reason: string;
  /** `namespace/name` keys found by a line scan of the broken text (namespace empty when it names none). */
  readonly names: readonly { namespace: string | undefined; name: string }[];
}

/** What one manifest file holds: its NADs, and the documents that could not be read. */
export interface ParsedManifests {
  readonly nads: (NetworkAttachmentDefinition & { origin?: NadOrigin })[];
  readonly broken: BrokenManifest[];
}

/** The documents of a YAML stream, split at `---` lines, each with its first line (1-based). */
function splitDocuments(text: string): { text: string; line: number }[] {
  const lines = text.split('\n');
  const documents: { text: string; line: number }[] = [];
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    if (i === lines.length || /^---(\s|$)/u.test(lines[i] as string)) {
      // The separator line itself may carry content (`--- {...}`): keep it in the next document.
      documents.push({ text: lines.slice(start, i).join('\n'), line: start + 1 });
      start = i;
      if (i < lines.length) lines[i] = (lines[i] as string).replace(/^---/u, '   ');
    }
  }
  return documents;
}

/**
 * The `metadata.name` and `metadata.namespace` of a document that cannot be parsed, found by
 * their indentation under `metadata:` (or in a JSON text): so that a broken file costs only its
 * own NADs and the error names the file to the pod that selects one of them.
 */
function salvageNames(text: string): { namespace: string | undefined; name: string }[] {
  const unquote = (value: string) => value.trim().replace(/^(["'])(.*)\1$/u, '$2');
  const found: { namespace: string | undefined; name: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const meta = /^(\s*)(?:- )?metadata:\s*$/u.exec(lines[i] as string);
    if (!meta) continue;
    const indent = (meta[1] as string).length;
    let name: string | undefined;
    let namespace: string | undefined;
    for (let j = i + 1; j < lines.length; j++) {
      const line = lines[j] as string;
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      const own = /^(\s*)/u.exec(line)?.[1]?.length ?? 0;
      if (own <= indent) break;
      const pair = /^\s*(name|namespace):\s*(\S.*?)\s*(?:#.*)?$/u.exec(line);
      if (pair?.[1] === 'name') name ??= unquote(pair[2] as string);
      if (pair?.[1] === 'namespace') namespace ??= unquote(pair[2] as string);
    }
    if (name) found.push({ namespace, name });
  }
  for (const match of text.matchAll(/"metadata"\s*:\s*\{([^{}]*)\}/gu)) {
    const name = /"name"\s*:\s*"([^"]+)"/u.exec(match[1] as string)?.[1];
    const namespace = /"namespace"\s*:\s*"([^"]+)"/u.exec(match[1] as string)?.[1];
    if (name) found.push({ namespace, name });
  }
  return found;
}

/** The 1-based line of a parser's error, when it says (js-yaml's `mark`, JSON's position). */
function errorLine(error: unknown, text: string): number | undefined {
  const mark = (error as { mark?: { line?: unknown } } | null)?.mark;
  if (typeof mark?.line === 'number') return mark.line + 1;
  const position = /position (\d+)/u.exec(errorText(error))?.[1];
  if (position !== undefined) return text.slice(0, Number(position)).split('\n').length;
  return undefined;
}

/** The first line of a parser's message: js-yaml appends a snippet of the text. */
function firstLine(error: unknown): string {
  return ((error as { reason?: unknown } | null)?.reason as string | undefined) ?? (errorText(error).split('\n')[0] as string);
}

/** The NADs of a parsed document: a NAD, a `List` or `...List` with `items`, or an array; other kinds are skipped. */
function visitDocument(value: unknown, where: string, found: NetworkAttachmentDefinition[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => visitDocument(item, `${where}[${i}]`, found));
    return;
  }
  if (!isRecord(value)) throw new MultinetError(`invalid NetworkAttachmentDefinition in ${where}: not an object`);
  if (Array.isArray(value.items) && (value.kind === 'List' || value.kind === `${NAD_KIND}List`)) {
    visitDocument(value.items, `${where}.items`, found);
    return;
  }
  if (value.kind !== undefined && value.kind !== NAD_KIND) return;
  found.push(toNad(value, where));
}

/**
 * The NADs of one manifest file, as kubectl reads it: YAML or JSON, one or several documents
 * (`---`), each a NAD, a `List`/`NetworkAttachmentDefinitionList` with `items`, or an array of
 * them; other kinds (a CRD or a pod in the same file) are skipped. A document that cannot be
 * parsed or is not a valid NAD is reported in `broken` with its line and the names it seems to
 * hold; the other documents of the file still count.
 */
export async function readNadManifests(text: string, source = 'manifest'): Promise<ParsedManifests> {
  const nads: ParsedManifests['nads'] = [];
  const broken: BrokenManifest[] = [];
  const trimmed = text.trimStart();
  // JSON (a .json file, or a text that is JSON) needs no YAML reader.
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      const found: NetworkAttachmentDefinition[] = [];
      visitDocument(JSON.parse(text), source, found);
      nads.push(...found.map((nad) => ({ ...nad, origin: { file: source, line: 1 } })));
      return { nads, broken };
    } catch (error) {
      if (source.endsWith('.json')) {
        broken.push({ file: source, line: errorLine(error, text) ?? 1, reason: firstLine(error), names: salvageNames(text) });
        return { nads, broken };
      }
      // Flow-style YAML that is not JSON: let the YAML reader have it.
    }
  }
  const loadAll = await loadYaml();
  const documents = splitDocuments(text);
  for (const [index, document] of documents.entries()) {
    const where = documents.length > 1 ? `${source} (document ${index + 1}, line ${document.line})` : source;
    let values: unknown[];
    try {
      values = loadAll(document.text);
    } catch (error) {
      const line = document.line - 1 + (errorLine(error, document.text) ?? 1);
      broken.push({ file: source, line, reason: firstLine(error), names: salvageNames(document.text) });
      continue;
    }
    for (const value of values) {
      const found: NetworkAttachmentDefinition[] = [];
      try {
        visitDocument(value, where, found);
      } catch (error) {
        const names = isRecord(value) && isRecord(value.metadata) && typeof value.metadata.name === 'string'
          ? [{ namespace: typeof value.metadata.namespace === 'string' ? value.metadata.namespace : undefined, name: value.metadata.name }]
          : salvageNames(document.text);
        broken.push({ file: source, line: document.line, reason: errorText(error), names });
        continue;
      }
      nads.push(...found.map((nad) => ({ ...nad, origin: { file: source, line: document.line } })));
    }
  }
  return { nads, broken };
}

/**
 * The NADs of one manifest file (see {@link readNadManifests}); throws naming the file and line
 * when any document of it cannot be read.
 */
export async function parseNadManifests(text: string, source = 'manifest'): Promise<NetworkAttachmentDefinition[]> {
  const { nads, broken } = await readNadManifests(text, source);
  const first = broken[0];
  if (first) throw new MultinetError(`cannot parse ${first.file}:${first.line}: ${first.reason}`);
  return nads.map(({ origin: _origin, ...nad }) => nad);
}

/** What a NAD folder holds: the NADs by `namespace/name`, and what could not be read. */
export interface NadDirectory {
  readonly nads: Map<string, NetworkAttachmentDefinition>;
  /** Broken documents, each with the files and lines to name when a pod selects one of its NADs. */
  readonly broken: BrokenManifest[];
  /** By `namespace/name`: the broken document that now holds that NAD (a later file's good copy replaces it, and the other way round). */
  readonly unreadable: Map<string, BrokenManifest>;
}

/**
 * NADs from a folder of manifests (`*.yaml`, `*.yml`, `*.json`, read in name order), for
 * runtimes without Kubernetes. A NAD without a namespace is in `defaultNamespace`; a later
 * file's NAD of the same namespace and name replaces an earlier one. A file that cannot be read
 * costs only the NADs it holds: they are listed in `broken`, the others load.
 */
export async function loadNadDirectory(dir: string, defaultNamespace = 'default'): Promise<NadDirectory> {
  const nads = new Map<string, NetworkAttachmentDefinition>();
  const broken: BrokenManifest[] = [];
  const unreadable = new Map<string, BrokenManifest>();
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /\.(ya?ml|json)$/u.test(name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { nads, broken, unreadable };
    throw new MultinetError(`failed to read NAD directory "${dir}": ${errorText(error)}`, { code: 5 });
  }
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      if (!statSync(file).isFile()) continue;
      text = readFileSync(file, 'utf8');
    } catch (error) {
      broken.push({ file, line: 1, reason: errorText(error), names: [] });
      continue;
    }
    const parsed = await readNadManifests(text, file);
    broken.push(...parsed.broken);
    // The last file naming a NAD wins, readable or not: the user meant the newest copy.
    for (const { origin: _origin, ...nad } of parsed.nads) {
      const key = `${nad.metadata.namespace ?? defaultNamespace}/${nad.metadata.name}`;
      nads.set(key, nad);
      unreadable.delete(key);
    }
    for (const entry of parsed.broken) {
      for (const held of entry.names) {
        const key = `${held.namespace ?? defaultNamespace}/${held.name}`;
        nads.delete(key);
        unreadable.set(key, entry);
      }
    }
  }
  return { nads, broken, unreadable };
}

/**
 * A {@link NadSource} over a folder of manifests, read once when first asked. Asking for a NAD
 * whose last copy sits in a broken document fails naming the file, line and error; a NAD that is
 * nowhere, while some file could not be attributed, fails naming those files too.
 */
export function nadDirectorySource(dir: string, defaultNamespace = 'default'): NadSource {
  let loaded: Promise<NadDirectory> | undefined;
  return {
    getNad: async (namespace, name) => {
      loaded ??= loadNadDirectory(dir, defaultNamespace);
      const { nads, broken, unreadable } = await loaded;
      const describe = (entry: BrokenManifest) => `${entry.file}:${entry.line}: ${entry.reason}`;
      const holder = unreadable.get(`${namespace}/${name}`);
      if (holder) throw new MultinetError(`NetworkAttachmentDefinition "${namespace}/${name}" cannot be read: ${describe(holder)}`);
      const nad = nads.get(`${namespace}/${name}`);
      if (nad) return nad;
      const unattributed = broken.filter((entry) => entry.names.length === 0);
      if (unattributed.length > 0) {
        throw new MultinetError(
          `NetworkAttachmentDefinition "${namespace}/${name}" not found in "${dir}", where some files cannot be read: ${unattributed.map(describe).join('; ')}`,
        );
      }
      return undefined;
    },
  };
}
