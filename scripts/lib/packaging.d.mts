// SPDX-License-Identifier: Apache-2.0
// Types of packaging.mjs, for the TypeScript tests that pack the workspace (integration/src/consumer).

export const SOURCE_CONDITION: string;
export const IGNORED_RESOLUTIONS: readonly string[];

export interface WorkspacePackage {
  name: string;
  dir: string;
  manifest: Record<string, any>;
}

export interface PackedPackage {
  name: string;
  version: string;
  /** The absolute path of the .tgz. */
  filename: string;
}

export function publicPackages(root?: string): WorkspacePackage[];
export function packPackages(packages: readonly WorkspacePackage[], destination: string, root?: string): PackedPackage[];
export function readTarball(file: string): Map<string, { data: Buffer; mode: number }>;
export function checkTarballFiles(manifest: Record<string, any>, fileNames: Iterable<string>): string[];
export function checkPackedManifest(packed: Record<string, any>, source: Record<string, any>): string[];
export function runPublint(files: Map<string, { data: Buffer; mode: number }>): Promise<string[]>;
export function runAttw(tarball: string): Promise<string[]>;
export function runAttwAll(tarballs: readonly string[], cacheFile?: string): Promise<string[][]>;
export function checkPacked(packages: readonly WorkspacePackage[], packed: readonly PackedPackage[], attwCache?: string): Promise<string[]>;
