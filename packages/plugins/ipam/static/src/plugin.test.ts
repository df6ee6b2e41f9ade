// SPDX-License-Identifier: Apache-2.0
import { runPlugin } from '@cni/skel';
import { runInProcess, type PluginRunOptions } from '@cni/testkit';
import { describe, expect, it } from 'vitest';
import { staticIpam } from './plugin.ts';

const run = (options: PluginRunOptions) =>
  runInProcess((io) => runPlugin(staticIpam, io), { netns: '/run/netns/cnitest-none', cniPath: '/nonexistent', ...options });
const conf = (ipam: Record<string, unknown>, extra: Record<string, unknown> = {}, cniVersion = '1.0.0') => ({
  cniVersion,
  name: 'net',
  type: 'bridge',
  ipam: { type: 'static', ...ipam },
  ...extra,
});

describe('static', () => {
  it('returns addresses, gateways, routes and dns', async () => {
    const out = await run({
      command: 'ADD',
      conf: conf({
        addresses: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }, { address: '3ffe:ffff:0:01ff::1/64' }],
        routes: [{ dst: '0.0.0.0/0' }],
        dns: { nameservers: ['8.8.8.8'], domain: 'example.com' },
      }),
    });
    expect(out.result).toEqual({
      cniVersion: '1.0.0',
      ips: [{ address: '10.10.0.1/24', gateway: '10.10.0.254' }, { address: '3ffe:ffff:0:1ff::1/64' }],
      routes: [{ dst: '0.0.0.0/0' }],
      dns: { nameservers: ['8.8.8.8'], domain: 'example.com' },
    });
  });

  it('appends CNI_ARGS IP with GATEWAY attached to the address that holds it', async () => {
    const out = await run({
      command: 'ADD',
      args: 'IP=10.1.0.5/24,2001:db8::5/64;GATEWAY=10.1.0.1',
      conf: conf({ addresses: [{ address: '10.9.0.2/24' }] }),
    });
    expect((out.result as { ips: unknown }).ips).toEqual([
      { address: '10.9.0.2/24' },
      { address: '10.1.0.5/24', gateway: '10.1.0.1' },
      { address: '2001:db8::5/64' },
    ]);
  });

  it('lets args.cni.ips, then runtimeConfig.ips, replace the addresses', async () => {
    const ipam = { addresses: [{ address: '10.9.0.2/24' }] };
    const byArgs = await run({ command: 'ADD', conf: conf(ipam, { args: { cni: { ips: ['10.2.0.2/16'] } } }) });
    expect((byArgs.result as { ips: unknown }).ips).toEqual([{ address: '10.2.0.2/16' }]);
    const byRuntime = await run({
      command: 'ADD',
      conf: conf(ipam, { args: { cni: { ips: ['10.2.0.2/16'] } }, runtimeConfig: { ips: ['10.3.0.3/8'], mac: '02:00:00:00:00:01' } }),
    });
    expect((byRuntime.result as { ips: unknown }).ips).toEqual([{ address: '10.3.0.3/8' }]);
  });

  it.each([
    [{ ipam: { addresses: [{ address: '10.0.0.1' }] } }, "the 'address' field is expected to be in CIDR notation, got: '10.0.0.1'"],
    [{ ipam: {}, runtimeConfig: { ips: ['10.0.0.1'] } }, "an entry in the 'ips' field is NOT in CIDR notation, got: '10.0.0.1'"],
    [{ ipam: {}, args: 'IP=10.0.0.1' }, "the 'ip' field is expected to be in CIDR notation, got: '10.0.0.1'"],
    [{ ipam: {}, args: 'IP=10.0.0.1/24;GATEWAY=x' }, 'invalid gateway address: x'],
  ])('refuses %j', async (input, message) => {
    const { ipam, args, ...extra } = input as { ipam: Record<string, unknown>; args?: string };
    const out = await run({ command: 'ADD', conf: conf(ipam, extra), ...(args === undefined ? {} : { args }) });
    expect(out.error).toEqual({ code: 999, msg: message });
  });

  it('allows one address per family before 0.3.0, and prints 0.2.0 results', async () => {
    const two = await run({ command: 'ADD', conf: conf({ addresses: [{ address: '10.0.0.1/24' }, { address: '10.0.1.1/24' }] }, {}, '0.2.0') });
    expect(two.error?.msg).toBe('CNI version 0.2.0 does not support more than 1 address per family');
    const one = await run({ command: 'ADD', conf: conf({ addresses: [{ address: '10.0.0.1/24', gateway: '10.0.0.254' }] }, {}, '0.2.0') });
    expect(one.result).toMatchObject({ cniVersion: '0.2.0', ip4: { ip: '10.0.0.1/24', gateway: '10.0.0.254' } });
  });

  it('checks only the gateways of addresses prevResult has', async () => {
    const ipam = { addresses: [{ address: '10.0.0.1/24', gateway: '10.0.0.254' }, { address: '10.0.1.1/24' }] };
    const prev = (gateway: string) => ({ cniVersion: '1.0.0', ips: [{ address: '10.0.0.1/24', gateway }] });
    expect((await run({ command: 'CHECK', conf: conf(ipam, { prevResult: prev('10.0.0.254') }) })).exitCode).toBe(0);
    const bad = await run({ command: 'CHECK', conf: conf(ipam, { prevResult: prev('10.0.0.253') }) });
    expect(bad.error?.msg).toBe('static: Failed to match addr 10.0.0.1 on interface eth0');
    const missing = await run({ command: 'CHECK', conf: conf(ipam) });
    expect(missing.error?.msg).toBe('Required prevResult missing');
    expect((await run({ command: 'DEL', conf: conf(ipam) })).exitCode).toBe(0);
  });
});

describe('static refuses values of the wrong type', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['addresses as an object and routes as a boolean', { addresses: {}, routes: true }, /ipam\.addresses \{\}, must be an array \(and 1 more problem\)/],
    ['routes as an object', { addresses: [{ address: '10.1.0.2/24' }], routes: { dst: '0.0.0.0/0' } }, /ipam\.routes \{"dst":"0\.0\.0\.0\/0"\}, must be an array/],
    ['a route whose gw is not an address', { addresses: [{ address: '10.1.0.2/24' }], routes: [{ dst: '0.0.0.0/0', gw: 'x' }] }, /ipam\.routes\[0\]\.gw "x"/],
    ['an address entry that is a string', { addresses: ['10.1.0.2/24'] }, /ipam\.addresses\[0\] "10\.1\.0\.2\/24"/],
    ['an address of the wrong type', { addresses: [{ address: 10 }] }, /ipam\.addresses\[0\]\.address 10, must be a string/],
    ['dns as a list', { addresses: [{ address: '10.1.0.2/24' }], dns: ['8.8.8.8'] }, /ipam\.dns \["8\.8\.8\.8"\], must be an object/],
    ['nameservers as a string', { addresses: [{ address: '10.1.0.2/24' }], dns: { nameservers: '8.8.8.8' } }, /ipam\.dns\.nameservers "8\.8\.8\.8", must be an array/],
  ];
  it.each(cases)('%s: code 7 naming the key', async (_name, ipam, message) => {
    const out = await run({ command: 'ADD', conf: conf(ipam) });
    expect(out.exitCode).toBe(1);
    expect(out.error?.code).toBe(7);
    expect(out.error?.msg).toMatch(message);
  });
});
