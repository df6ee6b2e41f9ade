// SPDX-License-Identifier: Apache-2.0
// Built-in modules through process.getBuiltinModule rather than `import ... from 'node:fs'`: an
// ESM import of a built-in builds a module facade over all its exports, which costs about 5 ms
// for node:fs and 4 ms for node:process in a fresh process, the whole budget of import plus open.

/** node:fs, when first needed. */
export function nodeFs(): typeof import('node:fs') {
  return process.getBuiltinModule('node:fs');
}

/** node:module, when first needed. */
export function nodeModule(): typeof import('node:module') {
  return process.getBuiltinModule('node:module');
}
