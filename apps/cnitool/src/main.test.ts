// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { containerIdFor, errorLine, EXIT, main, parseCniArgs, summarizeResult } from './index.ts';
import { PluginError } from '@cni/libcni';
import { CniError } from '@cni/spec';

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { env, stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, out, err };
}

describe('cnitool arguments', () => {
  it('parses CNI_ARGS strictly, as upstream cnitool', () => {
    expect(parseCniArgs('IP=10.0.0.5;IgnoreUnknown=1')).toEqual([['IP', '10.0.0.5'], ['IgnoreUnknown', '1']]);
    expect(() => parseCniArgs('IP=')).toThrow('invalid CNI_ARGS pair "IP="');
    expect(() => parseCniArgs('A=B=C')).toThrow('invalid CNI_ARGS pair');
  });

  it('derives the container ID from the netns path as upstream cnitool', () => {
    const path = '/var/run/netns/testing';
    expect(containerIdFor(path)).toBe(`cnitool-${createHash('sha512').update(path).digest('hex').slice(0, 20)}`);
    expect(containerIdFor(path)).toMatch(/^cnitool-[0-9a-f]{20}$/);
  });

  it('reports usage errors with status 2 and config errors with status 3', async () => {
    const bad = io({ CNI_ARGS: 'oops' , NETCONFPATH: new URL('../../../packages/libcni/src/__fixtures__/net.d', import.meta.url).pathname });
    expect(await main(['add', 'dbnet', '/tmp'], bad.io)).toBe(EXIT.USAGE);
    expect(bad.err.join('')).toContain('invalid CNI_ARGS pair "oops"');
    const missing = io({ NETCONFPATH: '/nonexistent' });
    expect(await main(['del', 'x', '/tmp'], missing.io)).toBe(EXIT.CONFIG);
    expect(missing.err.join('')).toBe('cnitool: no net configurations found in /nonexistent\n');
    expect(await main(['add', '--ifname'], io().io)).toBe(EXIT.USAGE);
  });

  it('prints errors on one line with the CNI code and its name', () => {
    const error = new PluginError('bridge', undefined, 'add', new CniError(11, 'busy', { details: 'try\nagain' }));
    expect(errorLine(error)).toBe('cnitool: plugin type="bridge" failed (add): busy; try; again (CNI code 11: try again later)');
    expect(errorLine(new Error('plain'))).toBe('cnitool: plain');
  });
});

describe('summarizeResult', () => {
  it('shows interfaces, addresses with their interface, routes and DNS', () => {
    const text = summarizeResult(
      {
        cniVersion: '0.4.0',
        interfaces: [{ name: 'cni0', mac: '0a:00:00:00:00:01' }, { name: 'eth0', sandbox: '/run/netns/a' }],
        ips: [{ version: '4', interface: 1, address: '10.0.0.2/24', gateway: '10.0.0.1' }],
        routes: [{ dst: '0.0.0.0/0', gw: '10.0.0.1' }, { dst: '10.9.0.0/16' }],
        dns: { nameservers: ['10.0.0.53'], search: ['svc.local'] },
      },
      { network: 'pods', containerId: 'c1', netns: '/run/netns/a', ifName: 'eth0' },
    );
    expect(text).toBe(
      [
        'pods: eth0 in /run/netns/a (container c1, cniVersion 0.4.0)',
        'interfaces:',
        '  0  cni0  0a:00:00:00:00:01  host',
        '  1  eth0  -                  container /run/netns/a',
        'addresses:',
        '  10.0.0.2/24  gateway 10.0.0.1  on eth0',
        'routes:',
        '  0.0.0.0/0    via 10.0.0.1',
        '  10.9.0.0/16  via default gateway',
        'dns: nameservers 10.0.0.53, search svc.local',
        '',
      ].join('\n'),
    );
  });
});
