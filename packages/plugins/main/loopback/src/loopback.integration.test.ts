// SPDX-License-Identifier: Apache-2.0
import { fileURLToPath } from 'node:url';
import { runPlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS, specVersionHas, toCurrentResult, type Result, type ResultV100 } from '@cni/spec';
import { execPlugin, readAddressList, readLink, runInProcess, useTestNetns, type PluginRunOptions } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { loopback } from './index.ts';

// CNI_BUNDLE_BIN: a copy of dist/bin that a concurrent rebuild cannot wipe.
const BUILT = `${process.env['CNI_BUNDLE_BIN'] ?? fileURLToPath(new URL('../../../../../apps/cni-bundle/dist/bin', import.meta.url))}/loopback`;
const DEBIAN = '/usr/lib/cni/loopback';
const conf = (cniVersion: string, extra: Record<string, unknown> = {}) => ({ cniVersion, name: 'lo-test', type: 'loopback', ...extra });

/** The built executable inside the test's host namespace, as a runtime runs it. */
const exec = (options: PluginRunOptions) => execPlugin(BUILT, { cniPath: '/nonexistent', ...options });
const inProcess = (options: PluginRunOptions) => runInProcess((io) => runPlugin(loopback, io), { cniPath: '/nonexistent', ...options });

/** The result as it must print in each version: lo with 127.0.0.1/8 and ::1/128. */
function expectedResult(version: string, netns: string): unknown {
  if (version === '0.1.0' || version === '0.2.0') return { cniVersion: version, ip4: { ip: '127.0.0.1/8' }, ip6: { ip: '::1/128' }, dns: {} };
  const legacy = version.startsWith('0.');
  return {
    cniVersion: version,
    interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: netns }],
    ips: [
      { ...(legacy ? { version: '4' } : {}), interface: 0, address: '127.0.0.1/8' },
      { ...(legacy ? { version: '6' } : {}), interface: 0, address: '::1/128' },
    ],
    ...(legacy ? { dns: {} } : {}),
  };
}

describe.skipIf(process.getuid?.() !== 0)('loopback on the host kernel', () => {
  describe.each(ALL_SPEC_VERSIONS)('[%s] loopback', (version) => {
    it('brings lo up with ADD, passes CHECK, and takes it down with DEL (built executable)', async () => {
      const netns = await useTestNetns();
      await netns.execContainer(['ip', 'link', 'set', 'lo', 'down']);
      const base = { netns: netns.container, hostNetns: netns.host, conf: conf(version) };

      const added = await exec({ ...base, command: 'ADD', ifName: 'eth0' });
      expect(added.error).toBeUndefined();
      expect(added.result).toEqual(expectedResult(version, netns.container.path));
      expect((await readLink(netns.container, 'lo'))?.flags).toContain('UP');
      expect(await readAddressList(netns.container, 'lo')).toEqual(['127.0.0.1/8', '::1/128']);

      if (specVersionHas('check', version)) {
        const checked = await exec({ ...base, command: 'CHECK', conf: conf(version, { prevResult: added.result }) });
        expect(checked.exitCode).toBe(0);
      }

      expect((await exec({ ...base, command: 'DEL' })).exitCode).toBe(0);
      expect((await readLink(netns.container, 'lo'))?.flags).not.toContain('UP');
      if (specVersionHas('check', version)) {
        const checked = await exec({ ...base, command: 'CHECK', conf: conf(version, { prevResult: added.result }) });
        expect(checked.error).toEqual({ code: 999, msg: 'loopback interface is down' });
      }
      expect((await exec({ ...base, command: 'DEL' })).exitCode).toBe(0);
    });

    it('gives the same result in process', async () => {
      const netns = await useTestNetns();
      const added = await inProcess({ command: 'ADD', netns: netns.container, conf: conf(version) });
      expect(added.result).toEqual(expectedResult(version, netns.container.path));
    });
  });

  it('passes a previous result on unchanged', async () => {
    const netns = await useTestNetns();
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: netns.container.path }], ips: [{ interface: 0, address: '10.1.0.5/24' }] };
    const added = await exec({ command: 'ADD', netns: netns.container, hostNetns: netns.host, conf: conf('1.0.0', { prevResult }) });
    expect(added.result).toEqual(prevResult);
  });

  it('refuses a lo that carries a non-loopback address', async () => {
    const netns = await useTestNetns();
    await netns.execContainer(['ip', 'addr', 'add', '10.9.9.9/32', 'dev', 'lo']);
    const added = await exec({ command: 'ADD', netns: netns.container, hostNetns: netns.host, conf: conf('1.0.0') });
    expect(added.error).toEqual({ code: 999, msg: 'loopback interface found with non-loopback address "10.9.9.9"' });
  });

  it('succeeds DEL when the namespace is gone', async () => {
    const netns = await useTestNetns();
    const r = await exec({ command: 'DEL', netns: '/var/run/netns/cnitest-gone', hostNetns: netns.host, conf: conf('1.0.0') });
    expect(r.exitCode).toBe(0);
  });

  // Debian's v1.1.1 loopback is the reference up to 1.0.0. Like current upstream, it labels a
  // result of the 1.0.0 shape with the config's version (Go's Convert returns a result whose
  // version already matches unchanged), so at 0.1.0-0.4.0 it prints `interfaces`/`ips` without
  // `ips[].version`; we print a true result of that version (docs/plugins/main/loopback.md). Both
  // are compared in the 1.0.0 shape, and its empty `dns`, which current upstream omits, is left out.
  describe.each(ALL_SPEC_VERSIONS.filter((version) => version !== '1.1.0'))("[%s] against Debian's loopback", (version) => {
    it('gives the same result and container state', async () => {
      const ours = await useTestNetns();
      const theirs = await useTestNetns();
      const a = await exec({ command: 'ADD', netns: ours.container, hostNetns: ours.host, conf: conf(version) });
      const b = await execPlugin(DEBIAN, { command: 'ADD', netns: theirs.container, hostNetns: theirs.host, cniPath: '/nonexistent', conf: conf(version) });
      expect(b.error).toBeUndefined();
      const upstreamShape = { ...(b.result as Record<string, unknown>), cniVersion: '1.0.0' } as ResultV100;
      const normalise = (result: Result, path: string) => {
        const { dns, ...rest } = JSON.parse(JSON.stringify(toCurrentResult(result)).replaceAll(path, 'NETNS')) as ResultV100;
        return dns && Object.keys(dns).length > 0 ? { ...rest, dns } : rest;
      };
      const ourShape = version === '0.1.0' || version === '0.2.0' ? toCurrentResult(a.result as Result) : ({ ...(a.result as object), cniVersion: '1.0.0' } as ResultV100);
      if (version === '0.1.0' || version === '0.2.0') {
        // The 0.2.0 result has no interfaces: compare the addresses only.
        expect(normalise(ourShape, ours.container.path).ips).toEqual(normalise(upstreamShape, theirs.container.path).ips?.map(({ address }) => ({ address })));
      } else {
        const { ips, ...rest } = normalise(ourShape, ours.container.path);
        expect({ ...rest, ips: ips?.map(({ address, interface: index }) => ({ address, interface: index })) }).toEqual(normalise(upstreamShape, theirs.container.path));
      }
      expect(await readAddressList(ours.container, 'lo')).toEqual(await readAddressList(theirs.container, 'lo'));
      expect((await readLink(ours.container, 'lo'))?.operstate).toEqual((await readLink(theirs.container, 'lo'))?.operstate);
    });
  });
});
