// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import * as multinet from './index.ts';

describe('README', () => {
  it('runs its usage example as written', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const code = /```ts\n([\s\S]*?)```/u.exec(readme)![1]!;
    const body = code.replace(/import \{[\s\S]*?\} from '@cni\/multinet';/u, '');
    const log = vi.fn();
    new Function('lib', 'console', `const { ${Object.keys(multinet).join(', ')} } = lib;\n${body}`)(multinet, { log });
    expect(log.mock.calls[0]).toEqual([
      [
        { name: 'left-network', namespace: 'default' },
        { name: 'data-network', namespace: 'extns', interface: 'data0' },
      ],
    ]);
    expect(log.mock.calls[1]).toEqual(['data-network', ['macvlan']]);
  });

  it('shows a configuration the plugin accepts', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const json = JSON.parse(/```json\n([\s\S]*?)```/u.exec(readme)![1]!) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
    const conf = multinet.parseMultinetConf({ ...json.plugins[0], name: json.name, cniVersion: json.cniVersion } as never);
    expect(conf.clusterNetwork).toBe('/etc/cni/net.d/10-pods.conflist');
    expect(conf.cniDir).toBe('/var/lib/cni/multinet');
  });
});
