// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArgs } from '@cni/skel';
import { CniError, type NetConf } from '@cni/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { duplicateSysctlKeys } from './json-keys.ts';
import { loadConf } from './net-conf.ts';

const dir = mkdtempSync(join(tmpdir(), 'tuning-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const noAllowlist = join(dir, 'absent.conf');

function request(conf: Record<string, unknown>, cniArgs = '', stdin?: string) {
  const full = { cniVersion: '1.0.0', name: 'net', type: 'tuning', ...conf } as NetConf;
  return {
    conf: full,
    prevResult: undefined,
    stdinData: new TextEncoder().encode(stdin ?? JSON.stringify(full)),
    ifName: 'eth0',
    loadArgs: <S extends Parameters<typeof loadArgs>[1]>(schema: S) => loadArgs(cniArgs, schema),
  };
}

function refusal(conf: Record<string, unknown>, cniArgs = '', stdin?: string): { code: number; msg: string } {
  try {
    loadConf(request(conf, cniArgs, stdin), { allowlist: noAllowlist });
  } catch (error) {
    if (CniError.isInstance(error)) return { code: error.code, msg: error.message };
    throw error;
  }
  throw new Error('accepted');
}

describe('tuning loadConf', () => {
  it('applies defaults', () => {
    const conf = loadConf(request({}), { allowlist: noAllowlist });
    expect(conf).toMatchObject({ dataDir: '/run/cni/tuning', sysctl: [], mac: undefined, promisc: false, mtu: 0, allmulti: undefined, txQLen: undefined });
  });

  it('reads every key', () => {
    const conf = loadConf(
      request({ dataDir: '/tmp/x', sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '1' }, mac: 'C2-11-22-33-44-55', promisc: true, mtu: 1400, allmulti: false, txQLen: 0 }),
      { allowlist: noAllowlist },
    );
    expect(conf).toMatchObject({ dataDir: '/tmp/x', sysctl: [['net.ipv4.conf.IFNAME.rp_filter', '1']], mac: 'c2:11:22:33:44:55', promisc: true, mtu: 1400, allmulti: false, txQLen: 0 });
  });

  it('takes the MAC from args.cni over runtimeConfig over CNI_ARGS over the top level', () => {
    const base = { mac: '02:00:00:00:00:01' };
    expect(loadConf(request(base, 'MAC=02:00:00:00:00:02'), { allowlist: noAllowlist }).mac).toBe('02:00:00:00:00:02');
    expect(loadConf(request({ ...base, runtimeConfig: { mac: '02:00:00:00:00:03' } }, 'MAC=02:00:00:00:00:02'), { allowlist: noAllowlist }).mac).toBe('02:00:00:00:00:03');
    const all = { ...base, runtimeConfig: { mac: '02:00:00:00:00:03' }, args: { cni: { mac: '02:00:00:00:00:04' } } };
    expect(loadConf(request(all, 'MAC=02:00:00:00:00:02'), { allowlist: noAllowlist }).mac).toBe('02:00:00:00:00:04');
  });

  it('lets args.cni override and extend every other key, even without a top-level sysctl map', () => {
    const conf = loadConf(
      request({ promisc: false, mtu: 1500, args: { cni: { sysctl: { 'net.ipv4.ip_forward': '1' }, promisc: true, mtu: 1300, allmulti: true, txQLen: 7 } } }),
      { allowlist: noAllowlist },
    );
    expect(conf).toMatchObject({ sysctl: [['net.ipv4.ip_forward', '1']], promisc: true, mtu: 1300, allmulti: true, txQLen: 7 });
    const merged = loadConf(request({ sysctl: { 'net.core.somaxconn': '1' }, args: { cni: { sysctl: { 'net.core.somaxconn': '2' } } } }), { allowlist: noAllowlist });
    expect(merged.sysctl).toEqual([['net.core.somaxconn', '2']]);
  });

  it.each([
    [{ sysctl: { 'kernel.hostname': 'x' } }, 'invalid net sysctl key "kernel.hostname": only net.* keys may be read or written'],
    [{ sysctl: { 'net.ipv4.conf.IFNAME.rp_filter/../../../../kernel/hostname': 'x' } }, 'is not allowed'],
    [{ sysctl: { 'net/../kernel/hostname': 'x' } }, 'component ".." is not allowed'],
    [{ sysctl: { 'net.ipv4.ip_forward': 1 } }, 'invalid sysctl["net.ipv4.ip_forward"] 1, must be a string'],
    [{ sysctl: ['net.ipv4.ip_forward'] }, 'invalid sysctl ["net.ipv4.ip_forward"]'],
    [{ mac: 'zz:11:22:33:44:55' }, 'invalid mac "zz:11:22:33:44:55", must be a MAC address'],
    [{ mtu: -1 }, 'invalid mtu -1, must be an integer in [0, 65535]'],
    [{ mtu: '1500' }, 'invalid mtu "1500"'],
    [{ txQLen: 1.5 }, 'invalid txQLen 1.5'],
    [{ promisc: 'yes' }, 'invalid promisc "yes", must be a boolean'],
    [{ allmulti: 1 }, 'invalid allmulti 1, must be a boolean'],
    [{ dataDir: 'relative' }, 'invalid dataDir "relative", must be an absolute path'],
    [{ args: { cni: { mtu: 'x' } } }, 'invalid args.cni.mtu "x"'],
    [{ args: { cni: { mac: 'nope' } } }, 'invalid args.cni.mac "nope"'],
    [{ runtimeConfig: { mac: 'nope' } }, 'invalid runtimeConfig.mac "nope"'],
  ])('refuses %j with code 7 naming the key and value', (conf, message) => {
    const { code, msg } = refusal(conf);
    expect(code).toBe(7);
    expect(msg).toContain(message);
  });

  it('refuses a bad CNI_ARGS MAC and unknown CNI_ARGS keys', () => {
    expect(refusal({}, 'MAC=nope').msg).toContain('invalid CNI_ARGS MAC "nope"');
    expect(() => loadConf(request({}, 'FOO=1'), { allowlist: noAllowlist })).toThrow(/unknown args/);
    expect(loadConf(request({}, 'IgnoreUnknown=1;FOO=1'), { allowlist: noAllowlist }).mac).toBeUndefined();
  });

  it('refuses duplicated sysctl keys, which JSON.parse would silently merge', () => {
    const stdin = '{"cniVersion":"1.0.0","name":"net","type":"tuning","sysctl":{"net.core.somaxconn":"1","net.core.somaxconn":"2"}}';
    expect(refusal({ sysctl: { 'net.core.somaxconn': '2' } }, '', stdin)).toEqual({ code: 7, msg: 'duplicated sysctl keys are not allowed: "net.core.somaxconn"' });
  });

  it('applies the allowlist file, when it exists, to every sysctl', () => {
    const allowlist = join(dir, 'allowlist.conf');
    writeFileSync(allowlist, '^net\\.ipv4\\.conf\\.IFNAME\\.[a-z_]*$\n\n  ^net\\.core\\.somaxconn$  \n');
    expect(loadConf(request({ sysctl: { 'net.ipv4.conf.IFNAME.rp_filter': '1' } }), { allowlist }).sysctl).toHaveLength(1);
    expect(() => loadConf(request({ args: { cni: { sysctl: { 'net.ipv4.ip_forward': '1' } } } }), { allowlist })).toThrow(
      'sysctl "net.ipv4.ip_forward" is not allowed by',
    );
    expect(loadConf(request({ sysctl: { 'net.ipv4.ip_forward': '1' } }), { allowlist, checkAllowlist: false }).sysctl).toHaveLength(1);
    expect(loadConf(request({ sysctl: { 'net.ipv4.ip_forward': '1' } }), { env: { CNI_TUNING_ALLOWLIST: noAllowlist } }).sysctl).toHaveLength(1);
    expect(() => loadConf(request({ sysctl: { 'net.ipv4.ip_forward': '1' } }), { env: { CNI_TUNING_ALLOWLIST: allowlist } })).toThrow(/not allowed/);
  });
});

describe('duplicateSysctlKeys', () => {
  it('finds duplicates in sysctl and args.cni.sysctl only', () => {
    expect(duplicateSysctlKeys('{"a":{"x":1,"x":2},"sysctl":{"k":"1","j":"\\"","k":"2"}}')).toEqual(['k']);
    expect(duplicateSysctlKeys('{"args":{"cni":{"sysctl":{"k":"1","k":"1"}}},"x":[1,{"sysctl":{"k":1,"k":2}}]}')).toEqual(['k']);
    expect(duplicateSysctlKeys('{"sysctl":{"k":"1","l":"2"},"plugins":[true,null,-1.5e3]}')).toEqual([]);
  });
});
