// SPDX-License-Identifier: Apache-2.0
// The whole configuration is read and checked before host-local touches its store: a bad route,
// a dataDir of the wrong type or any other known key of the wrong type fails the ADD with code 7
// naming the key, and leaves no lease, no lock and no folder behind.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runPlugin } from '@cni/skel';
import { registerTeardown, runInProcess, useTempDir, type PluginRunOptions } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_DIR } from './config.ts';
import { hostLocal } from './plugin.ts';

const run = (options: PluginRunOptions) =>
  runInProcess((io) => runPlugin(hostLocal, io), { netns: '/run/netns/cnitest-none', cniPath: '/nonexistent', ...options });

/**
 * A network with a name of its own: were a wrong-typed dataDir ignored (the defect), the lease
 * would land in the machine's /var/lib/cni/networks/<name>, which the teardown removes again.
 */
async function network(ipam: Record<string, unknown>) {
  const dataDir = await useTempDir('host-local');
  const name = `validate-${randomBytes(4).toString('hex')}`;
  registerTeardown(() => rmSync(join(DEFAULT_DATA_DIR, name), { recursive: true, force: true }));
  const conf = { cniVersion: '1.0.0', name, type: 'host-local', ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/29' }]], ...ipam } };
  return { dataDir, conf };
}

const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : []);

describe('host-local refuses a bad configuration before it allocates', () => {
  const badRoutes: [string, unknown, RegExp][] = [
    ['a route whose dst is not a CIDR', [{ dst: 'foo' }], /ipam\.routes\[0\]\.dst "foo"/],
    ['a route whose gw is not an address', [{ dst: '0.0.0.0/0', gw: 'bar' }], /ipam\.routes\[0\]\.gw "bar"/],
    ['a route that is null', [null], /ipam\.routes\[0\]/],
    ['a route that is a string', ['0.0.0.0/0'], /ipam\.routes\[0\] "0\.0\.0\.0\/0"/],
    ['a route that is an empty list', [[]], /ipam\.routes\[0\] \[\]/],
    ['the second of two routes', [{ dst: '0.0.0.0/0' }, { dst: '10.0.0.0/8', gw: 1 }], /ipam\.routes\[1\]\.gw 1/],
    ['routes as an object', { dst: '0.0.0.0/0' }, /ipam\.routes \{"dst":"0\.0\.0\.0\/0"\}, must be an array/],
    ['routes as a string', '0.0.0.0/0', /ipam\.routes "0\.0\.0\.0\/0", must be an array/],
    ['a route priority of the wrong type', [{ dst: '0.0.0.0/0', priority: '5' }], /ipam\.routes\[0\]\.priority "5"/],
  ];
  it.each(badRoutes)('%s: code 7 naming the key, and no lease left', async (_name, routes, message) => {
    const { dataDir, conf } = await network({ routes });
    const add = await run({ command: 'ADD', conf });
    expect(add.exitCode).toBe(1);
    expect(add.error?.code).toBe(7);
    expect(add.error?.msg).toMatch(message);
    expect(files(dataDir)).toEqual([]);
  });

  const wrongTypes: [string, Record<string, unknown>, RegExp][] = [
    ['dataDir as a number', { dataDir: 5 }, /ipam\.dataDir 5, must be a string/],
    ['dataDir as an object', { dataDir: {} }, /ipam\.dataDir \{\}, must be a string/],
    ['dataDir as a list', { dataDir: ['/tmp'] }, /ipam\.dataDir \["\/tmp"\], must be a string/],
    ['dataDir as a boolean', { dataDir: true }, /ipam\.dataDir true, must be a string/],
    ['resolvConf as a number', { resolvConf: 1 }, /ipam\.resolvConf 1, must be a string/],
    ['ranges as an object', { ranges: { subnet: '10.1.2.0/29' } }, /ipam\.ranges/],
    ['a range that is a string', { ranges: [['10.1.2.0/29']] }, /ipam\.ranges\[0\]\[0\] "10\.1\.2\.0\/29"/],
    ['a subnet of the wrong type', { ranges: [[{ subnet: 10 }]] }, /ipam\.ranges\[0\]\[0\]\.subnet 10/],
    ['a gateway of the wrong type', { ranges: [[{ subnet: '10.1.2.0/29', gateway: false }]] }, /ipam\.ranges\[0\]\[0\]\.gateway false/],
    ['the legacy subnet of the wrong type', { ranges: undefined, subnet: 7 }, /ipam\.subnet 7/],
  ];
  it.each(wrongTypes)('%s: code 7 naming the key, and nothing written', async (_name, ipam, message) => {
    const { dataDir, conf } = await network(ipam);
    const add = await run({ command: 'ADD', conf: { ...conf, ipam: { ...conf.ipam, ...ipam } } });
    expect(add.error?.code).toBe(7);
    expect(add.error?.msg).toMatch(message);
    expect(files(dataDir)).toEqual([]);
    expect(existsSync(join(DEFAULT_DATA_DIR, conf.name))).toBe(false);
  });

  it('args.cni.ips and runtimeConfig.ips of the wrong type are refused, not ignored', async () => {
    const { dataDir, conf } = await network({});
    const args = await run({ command: 'ADD', conf: { ...conf, args: { cni: { ips: '10.1.2.5' } } } });
    expect(args.error).toMatchObject({ code: 7, msg: expect.stringMatching(/args\.cni\.ips "10\.1\.2\.5", must be an array/) });
    const runtime = await run({ command: 'ADD', conf: { ...conf, runtimeConfig: { ips: 5 } } });
    expect(runtime.error).toMatchObject({ code: 7, msg: expect.stringMatching(/runtimeConfig\.ips 5, must be an array/) });
    expect(files(dataDir)).toEqual([]);
  });

  it('unknown keys still pass through, and good routes are copied as given', async () => {
    const { conf } = await network({ routes: [{ dst: '0.0.0.0/0', gw: '10.1.2.1', priority: 5, extra: 'kept' }], someUnknownKey: { a: 1 } });
    const add = await run({ command: 'ADD', conf: { ...conf, anotherUnknown: [1] } });
    expect(add.error).toBeUndefined();
    expect((add.result as { routes: unknown }).routes).toEqual([{ dst: '0.0.0.0/0', gw: '10.1.2.1', priority: 5 }]);
  });
});
