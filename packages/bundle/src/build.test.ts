// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { lazyBuiltins } from './build.ts';

describe('lazyBuiltins', () => {
  it('defers the built-in modules not every start needs, and keeps fs, path and module eager', () => {
    const source = '"use strict";\nvar import_node_fs = require("node:fs");\nvar import_node_child_process = require("node:child_process");\n  import_net = require("net");\n';
    const out = lazyBuiltins(source);
    expect(out.startsWith('"use strict";\nvar __cniLazyBuiltin = ')).toBe(true);
    expect(out).toContain('var import_node_fs = require("node:fs");');
    expect(out).toContain('var import_node_child_process = __cniLazyBuiltin("node:child_process");');
    expect(out).toContain('  import_net = __cniLazyBuiltin("node:net");');
  });

  it('leaves a file that loads nothing lazily as it was', () => {
    expect(lazyBuiltins('var import_node_path = require("path");\n')).toBe('var import_node_path = require("path");\n');
  });
});
