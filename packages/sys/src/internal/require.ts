// SPDX-License-Identifier: Apache-2.0
import { createRequire } from 'node:module';

/**
 * A CommonJS `require` for loading things synchronously on first use. A CommonJS bundle (as a
 * single executable application needs) has its own `require` and no `import.meta.url`; an ES
 * module has the opposite.
 */
export function nodeRequire(): NodeJS.Require {
  if (typeof require === 'function') return require;
  return createRequire(import.meta.url);
}
