// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { argBool, argString, loadArgs, parseCniArgs } from './args.ts';
import { readCniEnvironment, validateInterfaceName } from './env.ts';

const base = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/p' };

function errorOf(fn: () => unknown): { code: number; message: string; details: string | undefined } {
  try {
    fn();
  } catch (error) {
    const e = error as { code: number; message: string; details: string | undefined };
    return { code: e.code, message: e.message, details: e.details };
  }
  throw new Error('expected an error');
}

describe('readCniEnvironment', () => {
  it('requires per verb what upstream requires', () => {
    expect(errorOf(() => readCniEnvironment({ CNI_COMMAND: 'DEL' })).message).toBe(
      'required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_PATH] missing',
    );
    expect(errorOf(() => readCniEnvironment({ CNI_COMMAND: 'GC' })).message).toBe('required env variables [CNI_PATH] missing');
    expect(errorOf(() => readCniEnvironment({})).message).toBe('required env variables [CNI_COMMAND] missing');
    expect(readCniEnvironment({ CNI_COMMAND: 'VERSION' }).command).toBe('VERSION');
    expect(readCniEnvironment({ CNI_COMMAND: 'STATUS', CNI_PATH: '/p', CNI_CONTAINERID: '!' }).containerId).toBe('!');
  });

  it('validates the container ID before reporting missing variables', () => {
    expect(errorOf(() => readCniEnvironment({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-x' }))).toEqual({
      code: 4,
      message: 'invalid characters in containerID',
      details: '-x',
    });
  });

  it.each([
    ['a'.repeat(16), 'interface name is too long'],
    ['ééééééééé', 'interface name is too long'],
    ['.', 'interface name is . or ..'],
    ['..', 'interface name is . or ..'],
    ['a/b', 'interface name contains / or : or whitespace characters'],
    ['a:b', 'interface name contains / or : or whitespace characters'],
    ['a b', 'interface name contains / or : or whitespace characters'],
    ['a\u00a0b', 'interface name contains / or : or whitespace characters'],
  ])('refuses interface name %j', (name, message) => {
    expect(errorOf(() => readCniEnvironment({ ...base, CNI_IFNAME: name }))).toMatchObject({ code: 4, message });
  });

  it('accepts 15-byte and dotted interface names', () => {
    expect(validateInterfaceName('a'.repeat(15))).toBeUndefined();
    expect(validateInterfaceName('eth0.100')).toBeUndefined();
    expect(validateInterfaceName('a\ufeffb')).toBeUndefined();
  });
});

describe('CNI_ARGS', () => {
  it('reads leniently into a record', () => {
    expect(parseCniArgs('A=1;;B=x=y;junk;=v')).toEqual({ A: '1', B: 'x=y' });
    expect(parseCniArgs('')).toEqual({});
  });

  it('loads with upstream LoadArgs rules', () => {
    const schema = { IP: argString, FLAG: argBool };
    expect(loadArgs('IP=10.0.0.1;FLAG=True', schema)).toEqual({ IgnoreUnknown: false, IP: '10.0.0.1', FLAG: true });
    expect(loadArgs('', schema)).toEqual({ IgnoreUnknown: false });
    expect(errorOf(() => loadArgs('ip=10.0.0.1', schema))).toMatchObject({
      code: 999,
      message: 'ARGS: unknown args ["ip=10.0.0.1"]',
    });
    expect(loadArgs('ip=10.0.0.1;IgnoreUnknown=1', schema)).toEqual({ IgnoreUnknown: true });
    expect(errorOf(() => loadArgs('IP', schema)).message).toBe('ARGS: invalid pair "IP"');
    expect(errorOf(() => loadArgs('A=1=2', schema)).message).toBe('ARGS: invalid pair "A=1=2"');
    expect(errorOf(() => loadArgs('FLAG=maybe', schema)).message).toBe(
      'ARGS: error parsing value of pair "FLAG=maybe": boolean unmarshal error: invalid input maybe',
    );
  });
});
