// SPDX-License-Identifier: Apache-2.0
// The built `static` beside Debian's reference binary: the same requests, the same answers.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execPlugin, type CniCommand, type PluginRunResult } from '@cni/testkit';
import { describe, expect, it } from 'vitest';

const OURS = process.env['CNI_TEST_STATIC_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin/static', import.meta.url));
const REFERENCE = '/usr/lib/cni/static';

async function run(binary: string, command: CniCommand, conf: Record<string, unknown>, args?: string): Promise<PluginRunResult> {
  // Ride out a rebuild of the bundle (tsup cleans dist first).
  for (let waited = 0; ; waited += 100) {
    try {
      return await execPlugin(binary, {
        command,
        containerId: 'c1',
        ifName: 'eth0',
        netns: '/run/netns/cnitest-static-none',
        cniPath: '/nonexistent',
        conf,
        ...(args === undefined ? {} : { args }),
      });
    } catch (error) {
      if (waited >= 30_000 || !/ENOENT|no such file/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function outcome(result: PluginRunResult): unknown {
  if (result.error !== undefined) return { code: result.error.code, msg: result.error.msg };
  const printed = result.result as Record<string, unknown> | undefined;
  // The reference prints an empty dns object; the spec lets it be left out.
  if (printed !== undefined && JSON.stringify(printed.dns) === '{}') delete printed.dns;
  return { exit: result.exitCode, result: printed };
}

describe.skipIf(!existsSync(REFERENCE))('static executable beside the reference', () => {
  it('answers as the reference does', async () => {
    const base = (ipam: Record<string, unknown>, extra: Record<string, unknown> = {}, cniVersion = '1.0.0') => ({
      cniVersion,
      name: 'net',
      type: 'static',
      ipam: { type: 'static', ...ipam },
      ...extra,
    });
    const addresses = [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }, { address: '3ffe:ffff:0:01ff::1/64', gateway: '3ffe:ffff:0::1' }];
    const cases: [CniCommand, Record<string, unknown>, string?][] = [
      ['ADD', base({ addresses, routes: [{ dst: '0.0.0.0/0' }, { dst: '192.168.0.0/16', gw: '10.10.5.1' }], dns: { nameservers: ['8.8.8.8'], domain: 'example.com', search: ['example.com'] } })],
      ['ADD', base({ addresses }), 'IgnoreUnknown=1;IP=10.20.0.5/16,2001:db8::5/64;GATEWAY=10.20.0.1,2001:db8::1'],
      ['ADD', base({ addresses }, { args: { cni: { ips: ['10.30.0.3/24'] } } })],
      ['ADD', base({ addresses }, { args: { cni: { ips: ['10.30.0.3/24'] } }, runtimeConfig: { ips: ['10.40.0.4/8', 'fd00::4/64'] } })],
      ['ADD', base({ addresses: [{ address: '10.0.0.1' }] })],
      ['ADD', base({}, { runtimeConfig: { ips: ['10.0.0.1'] } })],
      ['ADD', base({}), 'IP=10.0.0.1'],
      ['ADD', base({}), 'IP=10.0.0.1/24;GATEWAY=nope'],
      ['ADD', base({}), 'FOO=bar'],
      ['ADD', base({ addresses: [{ address: '10.0.0.1/24' }, { address: '10.0.1.1/24' }] }, {}, '0.2.0')],
      ['ADD', base({ addresses: [{ address: '10.0.0.1/24', gateway: '10.0.0.254' }] }, {}, '0.2.0')],
      ['ADD', base({ addresses }, {}, '0.4.0')],
      ['ADD', { cniVersion: '1.0.0', name: 'net', type: 'static' }],
      ['CHECK', base({ addresses }, { prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }] } })],
      ['CHECK', base({ addresses }, { prevResult: { cniVersion: '1.0.0', ips: [{ address: '10.10.0.1/24', gateway: '10.10.0.253' }] } })],
      ['CHECK', base({ addresses })],
      ['DEL', base({ addresses })],
    ];
    let errors = 0;
    for (const [command, conf, args] of cases) {
      const [ours, reference] = await Promise.all([run(OURS, command, conf, args), run(REFERENCE, command, conf, args)]);
      const expected = outcome(reference);
      expect(outcome(ours), `${command} ${JSON.stringify(conf)} ${args ?? ''}`).toEqual(expected);
      if ((expected as { code?: number }).code !== undefined) errors++;
    }
    expect(errors).toBeGreaterThanOrEqual(7);
  });
});
