// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import * as spec from '@cni/spec';
import { describe, expect, it, vi } from 'vitest';
import * as skel from './index.ts';

describe('README', () => {
  it('runs its usage example as written', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    // The example runs against this package's exports: drop its imports and `export`.
    const body = code.replace(/^import [\s\S]*?;$/gm, '').replace(/^export /gm, '');
    const log = vi.fn();
    const names = [...Object.keys(skel), 'ALL_SPEC_VERSIONS', 'CniError'];
    const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction('mods', 'console', 'process', `const { ${names.join(', ')} } = mods;\n${body}`)(
      { ...skel, ALL_SPEC_VERSIONS: spec.ALL_SPEC_VERSIONS, CniError: spec.CniError },
      { log },
      { stderr: { write: () => {} } },
    );
    expect(log.mock.calls[0]).toEqual([0, [{ version: '4', address: '10.1.0.5/16' }]]);
  });
});
