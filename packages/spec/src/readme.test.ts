// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import * as spec from './index.ts';

describe('README', () => {
  it('runs its usage example as written', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    // Strip the import and the type annotations: the example runs against this package's exports.
    const body = code
      .replace(/import \{[\s\S]*?\} from '@cni\/spec';/, '')
      .replace(/: ResultV100/g, '')
      .replace(/ as CniError/g, '');
    const log = vi.fn();
    new Function('spec', 'console', `const { ${Object.keys(spec).join(', ')} } = spec;\n${body}`)(spec, { log });
    expect(log.mock.calls[0]).toEqual(['cni0', true]);
    expect(JSON.parse(log.mock.calls[1]![0])).toEqual({
      cniVersion: '0.4.0',
      interfaces: [{ name: 'eth0', sandbox: '/var/run/netns/c1' }],
      ips: [{ version: '4', interface: 0, address: '10.1.0.5/16', gateway: '10.1.0.1' }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }],
      dns: {},
    });
  });
});
