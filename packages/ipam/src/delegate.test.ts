// SPDX-License-Identifier: Apache-2.0
import type { AddRequest, DelRequest, StatusRequest } from '@cni/skel';
import { UndoStack } from '@cni/skel';
import { CniError } from '@cni/spec';
import { describe, expect, it } from 'vitest';
import { ipamAdd, ipamAddFor, ipamDel, ipamStatus, ipamType } from './delegate.ts';

function request<R>(command: string, conf: Record<string, unknown>, reply: (type: string, options?: { command: string }) => unknown) {
  const calls: string[] = [];
  const value = {
    command,
    conf,
    delegate: async (type: string, _config?: unknown, options?: { command: string }) => {
      calls.push(`${options?.command ?? command} ${type}`);
      return reply(type, options);
    },
  } as unknown as R;
  return { value, calls };
}

const conf = { cniVersion: '1.0.0', name: 'n', type: 'bridge', ipam: { type: 'host-local' } };

describe('IPAM delegation helpers', () => {
  it('names the IPAM type, or fails with code 7', () => {
    expect(ipamType({ conf } as never)).toBe('host-local');
    expect(() => ipamType({ conf: { ...conf, ipam: undefined } } as never)).toThrow(expect.objectContaining({ code: 7 }));
  });

  it('returns the delegate result in the 1.x form, and refuses one without addresses', async () => {
    const old = request<AddRequest>('ADD', conf, () => ({ cniVersion: '0.2.0', ip4: { ip: '10.1.0.2/24', gateway: '10.1.0.1' } }));
    expect((await ipamAdd(old.value)).ips).toEqual([{ address: '10.1.0.2/24', gateway: '10.1.0.1' }]);
    const empty = request<AddRequest>('ADD', conf, () => ({ cniVersion: '1.0.0' }));
    await expect(ipamAdd(empty.value)).rejects.toThrow('IPAM plugin returned missing IP config');
  });

  it('puts the lease on one interface and its DEL on the undo stack, which a failure runs', async () => {
    const add = request<AddRequest>('ADD', conf, (_type, options) => {
      if (options?.command === 'DEL') throw new CniError(999, 'del failed too');
      return { cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24' }], routes: [{ dst: '0.0.0.0/0' }], dns: { nameservers: ['10.1.0.1'] } };
    });
    const iface = { name: 'eth0', sandbox: '/var/run/netns/c1' };
    await expect(
      UndoStack.guard(async (undo) => {
        expect(await ipamAddFor(add.value, iface, undo)).toEqual({
          cniVersion: '1.1.0',
          interfaces: [iface],
          ips: [{ address: '10.1.0.2/24', interface: 0 }],
          routes: [{ dst: '0.0.0.0/0' }],
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(add.calls).toEqual(['ADD host-local', 'DEL host-local']);
    const ok = request<AddRequest>('ADD', conf, () => ({ cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24' }], dns: { nameservers: ['10.1.0.1'] } }));
    const kept = await UndoStack.guard((undo) => ipamAddFor(ok.value, iface, undo, { keepDns: true }));
    expect(kept.dns).toEqual({ nameservers: ['10.1.0.1'] });
    expect(ok.calls).toEqual(['ADD host-local']);
  });

  it('runs DEL and STATUS of the IPAM plugin; STATUS without IPAM is ready', async () => {
    const del = request<DelRequest>('DEL', conf, () => undefined);
    await ipamDel(del.value);
    expect(del.calls).toEqual(['DEL host-local']);
    const status = request<StatusRequest>('STATUS', { ...conf, ipam: undefined }, () => undefined);
    await ipamStatus(status.value);
    expect(status.calls).toEqual([]);
  });
});
