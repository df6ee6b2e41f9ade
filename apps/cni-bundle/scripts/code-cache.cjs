// SPDX-License-Identifier: Apache-2.0
// Run by the payload's own runtime during the build: writes `<file>.v8cache` beside each bundled
// file, V8's code cache for it after its top level has run (so the functions that ran are in it).
// It must be the same runtime and flags as at run time, or V8 rejects the cache.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname } = require('node:path');
const { constants, Script } = require('node:vm');

// Must match src/runtime/load.ts's wrapCommonJs.
const wrap = (source) => `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;

for (const file of process.argv.slice(2)) {
  // The same options as src/runtime/load.ts's.
  const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  writeFileSync(`${file}.v8cache`, script.createCachedData());
}
