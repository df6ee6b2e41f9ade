// SPDX-License-Identifier: Apache-2.0
import { CNI_ERROR_CODES, CniError } from './errors.ts';

/** Every version of the CNI specification, oldest first. */
export const ALL_SPEC_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

/** A version of the CNI specification. */
export type SpecVersion = (typeof ALL_SPEC_VERSIONS)[number];

/** The newest spec version this library implements; VERSION prints it as `cniVersion`. */
export const CURRENT_SPEC_VERSION: SpecVersion = '1.1.0';

/** A feature of the protocol that appeared in a given spec version. */
export type SpecFeature = 'chaining' | 'check' | 'prevResultOnDel' | 'gc' | 'status' | 'cniVersions';

const featureSince: Record<SpecFeature, SpecVersion> = {
  chaining: '0.3.0',
  check: '0.4.0',
  prevResultOnDel: '0.4.0',
  gc: '1.1.0',
  status: '1.1.0',
  cniVersions: '1.1.0',
};

/** True when `version` is one of {@link ALL_SPEC_VERSIONS}. */
export function isSpecVersion(version: unknown): version is SpecVersion {
  return typeof version === 'string' && (ALL_SPEC_VERSIONS as readonly string[]).includes(version);
}

const semverPattern = /^(\d+)\.(\d+)\.(\d+)$/;

/**
 * Compare two `major.minor.patch` versions numerically: negative when `a < b`, 0 when equal,
 * positive when `a > b`. Throws a CniError (code 1) for a string that is not such a version.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = pa[i]! - pb[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function parseVersion(version: string): [number, number, number] {
  const match = semverPattern.exec(version);
  if (!match) {
    throw new CniError(CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, `invalid version "${version}"`, {
      details: 'a CNI version has the form major.minor.patch',
    });
  }
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** The version an empty `cniVersion` means: the spec says a missing version is 0.1.0. */
export function effectiveVersion(cniVersion: string | undefined): string {
  return cniVersion === undefined || cniVersion === '' ? '0.1.0' : cniVersion;
}

/**
 * True when `version` has `feature`: CHECK needs 0.4.0 or later, GC and STATUS 1.1.0 or later.
 * A version that does not parse has no feature.
 */
export function specVersionHas(feature: SpecFeature, version: string): boolean {
  if (!semverPattern.test(effectiveVersion(version))) return false;
  return compareVersions(effectiveVersion(version), featureSince[feature]) >= 0;
}

/**
 * The version a runtime uses for a configuration list, as libcni negotiates it: without
 * `cniVersions`, `cniVersion` itself (empty meaning 0.1.0). With `cniVersions`, the highest of
 * its entries and `cniVersion`, leaving out versions newer than this library's
 * {@link CURRENT_SPEC_VERSION} (a config may list versions from the future); when that leaves
 * nothing, `cniVersion` again. Entries that are not versions are ignored here
 * (`parseNetConfList` refuses them).
 *
 * @example
 * ```ts
 * negotiateConfigVersion('0.4.0', ['1.0.0', '1.1.0', '2.0.0']); // '1.1.0'
 * ```
 */
export function negotiateConfigVersion(cniVersion: string | undefined, cniVersions: readonly string[] | undefined): string {
  if (cniVersions === undefined) return effectiveVersion(cniVersion);
  const candidates = [...cniVersions];
  if (cniVersion !== undefined && cniVersion !== '') candidates.push(cniVersion);
  const usable = candidates.filter((v) => semverPattern.test(v) && compareVersions(v, CURRENT_SPEC_VERSION) <= 0);
  if (usable.length === 0) return effectiveVersion(cniVersion);
  return usable.reduce((best, v) => (compareVersions(v, best) > 0 ? v : best));
}

/**
 * The highest version both sides support: what a runtime can use with a plugin that lists
 * `supported` when the configuration allows `allowed`. Undefined when they share none.
 */
export function highestCommonVersion(allowed: readonly string[], supported: readonly string[]): string | undefined {
  const common = allowed.filter((v) => semverPattern.test(v) && supported.includes(v));
  if (common.length === 0) return undefined;
  return common.reduce((best, v) => (compareVersions(v, best) > 0 ? v : best));
}

/**
 * What a plugin answers to VERSION: `{"cniVersion": "<current>", "supportedVersions": [...]}`.
 */
export interface VersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

/** The VERSION answer of a plugin that supports `versions`. */
export function versionInfo(versions: readonly string[]): VersionInfo {
  return { cniVersion: CURRENT_SPEC_VERSION, supportedVersions: [...versions] };
}

/**
 * Check that a plugin supporting `supported` can serve a configuration of `configVersion`.
 * Upstream compares by exact membership, and so do we. Throws code 1
 * (`incompatible CNI versions`) otherwise.
 */
export function assertVersionSupported(configVersion: string | undefined, supported: readonly string[]): void {
  const version = effectiveVersion(configVersion);
  if (supported.includes(version)) return;
  throw new CniError(CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, 'incompatible CNI versions', {
    details: `config is "${version}", plugin supports [${supported.map((v) => `"${v}"`).join(' ')}]`,
  });
}

/** The versions of {@link ALL_SPEC_VERSIONS} from `min` on, as upstream's `VersionsStartingFrom`. */
export function versionsStartingFrom(min: SpecVersion): SpecVersion[] {
  return ALL_SPEC_VERSIONS.slice(ALL_SPEC_VERSIONS.indexOf(min));
}

/** A verb that only newer configurations may use. */
export type GatedVerb = 'CHECK' | 'GC' | 'STATUS';

const verbFeature: Record<GatedVerb, SpecFeature> = { CHECK: 'check', GC: 'gc', STATUS: 'status' };

/**
 * Skel's gate for CHECK (config 0.4.0 or later) and GC/STATUS (1.1.0 or later), with upstream's
 * messages, all code 1: `config version does not allow CHECK` when the configuration is too old,
 * `plugin version does not allow CHECK` when the plugin supports no version as new as the
 * configuration's, then {@link assertVersionSupported}. A configuration version that is not a
 * version is code 6, as upstream's decoder reports it.
 */
export function assertVerbAllowed(verb: GatedVerb, configVersion: string | undefined, supported: readonly string[]): void {
  const version = effectiveVersion(configVersion);
  if (!semverPattern.test(version)) {
    throw new CniError(CNI_ERROR_CODES.DECODING_FAILURE, `invalid version "${version}"`, {
      details: 'a CNI version has the form major.minor.patch',
    });
  }
  if (!specVersionHas(verbFeature[verb], version)) {
    throw new CniError(CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, `config version does not allow ${verb}`);
  }
  if (!supported.some((v) => semverPattern.test(v) && compareVersions(v, version) >= 0)) {
    throw new CniError(CNI_ERROR_CODES.INCOMPATIBLE_CNI_VERSION, `plugin version does not allow ${verb}`);
  }
  assertVersionSupported(version, supported);
}
