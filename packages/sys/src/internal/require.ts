// SPDX-License-Identifier: Apache-2.0
import { createRequire } from 'node:module';

/**
 * A CommonJS `require` for loading things synchronously on first use, from wherever this code
 * ended up: an ES module (import.meta.url), a CommonJS bundle (`__filename`; bundlers leave
 * `import.meta` empty there, and a single executable application's own `require` loads only
 * built-in modules), or, failing both, the working directory.
 *
 * The bare `require` is never used: an ES module bundle replaces it with a stub that throws.
 */
export function nodeRequire(): NodeJS.Require {
  const url = import.meta.url as string | undefined;
  if (typeof url === 'string') return createRequire(url);
  if (typeof __filename === 'string') return createRequire(__filename);
  return createRequire(`${process.cwd()}/`);
}
