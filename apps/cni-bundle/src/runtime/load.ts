// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { constants as vmConstants, Script } from 'node:vm';

/** The suffix of a bundled file's V8 code cache, written beside it by the build. */
export const CODE_CACHE_SUFFIX = '.v8cache';

/**
 * Load a bundled CommonJS file as Node's require would, but compiled from the V8 code cache the
 * build wrote beside it (`<file>.v8cache`): compiling a plugin's file is most of what loading it
 * costs. The cache does not depend on where the file lies, so it survives `cni-bundle install`; a
 * cache V8 rejects (another runtime, a changed file) only costs the compile it would have saved.
 */
export function loadBundledFile(file: string): unknown {
  const source = readFileSync(file, 'utf8');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(file + CODE_CACHE_SUFFIX);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(wrapCommonJs(source), {
    filename: file,
    // import() of Node's modules (the libraries load some lazily) as the main context does it.
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} as unknown, filename: file, id: file, loaded: false };
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  module.loaded = true;
  return module.exports;
}

/** Node's CommonJS wrapper, so the file sees exports, require, module, __filename and __dirname. */
export function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}
