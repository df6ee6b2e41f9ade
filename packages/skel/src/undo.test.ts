// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { CniError, type Result } from '@cni/spec';
import { UndoStack, requirePrevResult, requirePrevResultInterface, validAttachments } from './index.ts';

async function add(fail: boolean, log: string[]): Promise<string> {
  await using undo = new UndoStack();
  log.push('make a');
  undo.defer(() => log.push('undo a'));
  log.push('make b');
  undo.defer(async () => {
    log.push('undo b');
    throw new Error('undo failures are ignored');
  });
  if (fail) throw new Error('step c failed');
  undo.dismiss();
  return 'done';
}

describe('UndoStack', () => {
  it('with await using: runs newest first on failure, nothing on success', async () => {
    const failed: string[] = [];
    await expect(add(true, failed)).rejects.toThrow('step c failed');
    expect(failed).toEqual(['make a', 'make b', 'undo b', 'undo a']);
    const succeeded: string[] = [];
    await expect(add(false, succeeded)).resolves.toBe('done');
    expect(succeeded).toEqual(['make a', 'make b']);
  });

  it('guard: the same without await using', async () => {
    const log: string[] = [];
    await expect(
      UndoStack.guard(async (undo) => {
        undo.defer(() => log.push('undo'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(log).toEqual(['undo']);
    await expect(UndoStack.guard(async (undo) => (undo.defer(() => log.push('never')), 1))).resolves.toBe(1);
    expect(log).toEqual(['undo']);
  });
});

describe('prevResult readers', () => {
  const prevResult = { cniVersion: '1.1.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/a' }] } as Result;

  it('one wording and code 7 for a missing prevResult', () => {
    for (const call of [() => requirePrevResult({}), () => requirePrevResultInterface({ ifName: 'eth0', netns: '/run/netns/a' }, 'x')]) {
      try {
        call();
        expect.unreachable();
      } catch (error) {
        expect(CniError.isInstance(error)).toBe(true);
        expect(error).toMatchObject({ code: 7, message: 'required prevResult missing' });
      }
    }
  });

  it('finds the interface by name and sandbox', () => {
    expect(requirePrevResultInterface({ prevResult, ifName: 'eth0', netns: '/run/netns/a' }, 'x').iface.name).toBe('eth0');
    expect(() => requirePrevResultInterface({ prevResult, ifName: 'eth1', netns: '/run/netns/a' }, 'vlan')).toThrow(
      'vlan: no interface "eth1" with sandbox "/run/netns/a" in prevResult',
    );
  });

  it('validAttachments reads either key', () => {
    const a = [{ containerID: 'c', ifname: 'eth0' }];
    expect(validAttachments({ cniVersion: '1.1.0', name: 'n', type: 't', 'cni.dev/valid-attachments': a })).toEqual(a);
    expect(validAttachments({ cniVersion: '1.1.0', name: 'n', type: 't', 'cni.dev/attachments': a })).toEqual(a);
    expect(validAttachments({ cniVersion: '1.1.0', name: 'n', type: 't' })).toEqual([]);
  });
});
