// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { parseDaemonFlags, parseGoDuration } from './cli.ts';
import { DEFAULT_REQUEST_LIST, DEFAULT_SOCKET_PATH, loadDhcpConfig } from './config.ts';
import { parseRequest } from './protocol.ts';

const load = (ipam: Record<string, unknown>, args: Record<string, string> = {}) =>
  loadDhcpConfig({ conf: { cniVersion: '1.1.0', name: 'lan', ipam: { type: 'dhcp', ...ipam } }, args, containerId: 'c1', ifName: 'eth0' });

describe('configuration', () => {
  it('defaults: upstream socket, default request list, client id of container/network/interface', () => {
    const config = load({});
    expect(config.daemonSocketPath).toBe(DEFAULT_SOCKET_PATH);
    expect(config.requestList).toEqual(DEFAULT_REQUEST_LIST);
    expect(config.provide.get(61)?.subarray(1).toString()).toBe('c1/lan/eth0');
    expect(config.priority).toBeUndefined();
  });

  it('refuses a skipDefault that is not a boolean, rather than ignoring it', () => {
    expect(() => load({ request: [{ option: 'host-name', skipDefault: 'yes' }] })).toThrow(
      expect.objectContaining({ code: 7, message: 'invalid ipam.request[0].skipDefault "yes", must be a boolean' }),
    );
    expect(load({ request: [{ option: 'host-name', skipDefault: null }] }).requestList).toContain(12);
  });

  it('reads request (with skipDefault), provide (value and fromArg) and priority', () => {
    const config = load(
      {
        daemonSocketPath: '/tmp/x.sock',
        priority: 50,
        request: [{ option: 'host-name' }, { option: '42', skipDefault: true }],
        provide: [
          { option: 'host-name', fromArg: 'K8S_POD_NAME' },
          { option: 'dhcp-client-identifier', value: 'my-id' },
          { option: 'user-class', fromArg: 'ABSENT' },
        ],
      },
      { K8S_POD_NAME: 'web-1' },
    );
    expect(config.daemonSocketPath).toBe('/tmp/x.sock');
    expect(config.priority).toBe(50);
    expect(config.requestList).toEqual([12, 42]);
    expect(config.provide.get(12)?.toString()).toBe('web-1');
    expect(config.provide.get(61)?.toString()).toBe('my-id');
    expect(config.provide.has(77)).toBe(false);
  });

  it('refuses unknown options, naming the entry', () => {
    expect(() => load({ request: [{ option: 'no-such-option' }] })).toThrow(/ipam\.request\[0\]: unknown dhcp option "no-such-option"/);
    expect(() => load({ provide: [{ option: '300', value: 'x' }] })).toThrow(/ipam\.provide\[0\]: unknown dhcp option "300"/);
    expect(() => load({ provide: [{ option: 'host-name' }] })).toThrow(/exactly one of "value" and "fromArg"/);
    expect(() => load({ provide: [{ option: 'host-name', value: 'x'.repeat(256) }] })).toThrow(/over 255/);
    expect(() => load({ request: 'routers' })).toThrow(/ipam\.request must be a list/);
    expect(() => load({ priority: -1 })).toThrow(/ipam\.priority/);
    expect(() => load({ daemonSocketPath: 3 })).toThrow(/daemonSocketPath/);
    try {
      load({ request: [{ option: 'nope' }] });
    } catch (error) {
      expect((error as { code: number }).code).toBe(7);
    }
  });
});

describe('plugin-daemon protocol', () => {
  it('parses a request line and refuses others', () => {
    const request = parseRequest(JSON.stringify({ cniDhcp: 1, verb: 'ADD', containerId: 'c', netns: '/run/netns/x', ifName: 'eth0', args: {}, conf: { name: 'n' } }));
    expect(request.verb).toBe('ADD');
    expect(request.conf).toEqual({ name: 'n' });
    expect(() => parseRequest('not json')).toThrow(/malformed request/);
    expect(() => parseRequest('{"verb":"ADD"}')).toThrow(/unsupported request/);
    expect(() => parseRequest('{"cniDhcp":1,"verb":"GC"}')).toThrow(/unknown verb/);
    expect(() => parseRequest('{"cniDhcp":1,"verb":"DEL","ifName":3}')).toThrow(/"ifName" must be a string/);
  });
});

describe('daemon flags', () => {
  it("reads upstream's flags the way Go's flag package does", () => {
    expect(
      parseDaemonFlags(['-socketpath', '/x.sock', '--pidfile=/p', '-hostprefix', '/host', '-broadcast', '-timeout=2s', '-resendmax', '1m2s', '-resendtimeout', '3m28s', '-statedir', '/s']),
    ).toEqual({
      socketPath: '/x.sock',
      pidFile: '/p',
      hostPrefix: '/host',
      broadcast: true,
      timeoutMs: 2000,
      resendMaxMs: 62_000,
      resendTimeoutMs: 208_000,
      stateDir: '/s',
    });
    expect(parseDaemonFlags(['-broadcast=false']).broadcast).toBe(false);
    expect(() => parseDaemonFlags(['-nope'])).toThrow(/flag provided but not defined: -nope/);
    expect(() => parseDaemonFlags(['-timeout'])).toThrow(/flag needs an argument/);
    expect(() => parseDaemonFlags(['-timeout', '10'])).toThrow(/invalid duration "10"/);
    expect(parseDaemonFlags([], { LISTEN_FDS: '1' }).listenFd).toBe(3);
  });

  it('parses Go durations', () => {
    expect(parseGoDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseGoDuration('500ms')).toBe(500);
    expect(parseGoDuration('0')).toBe(0);
    expect(() => parseGoDuration('5x')).toThrow();
  });
});
