// SPDX-License-Identifier: Apache-2.0
import { ALL_SPEC_VERSIONS } from '@cni/spec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definePlugin } from './plugin.ts';
import { runPlugin } from './run-plugin.ts';

// A plugin that exercises every part of the request a plugin may touch, so that whatever the
// input, the request's own failures (args, prevResult) are covered too.
const probe = definePlugin({
  name: 'probe',
  versions: ALL_SPEC_VERSIONS,
  add: (request) => {
    void request.args;
    request.loadArgs({ IP: (value) => value });
    return request.prevResult ?? { cniVersion: '1.1.0', ips: [{ address: '10.0.0.2/24' }] };
  },
  del: (request) => {
    void request.prevResult;
  },
  check: (request) => {
    if (!request.prevResult) throw new Error('required prevResult missing');
  },
});

const commands = fc.constantFrom('ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', '', 'add', 'FOO');
const variable = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('', 'c1', 'eth0', '/proc/self/ns/net', '/nonexistent', '1', 'true', 'IgnoreUnknown=1;IP=10.0.0.9', 'IP'),
  fc.string({ maxLength: 20 }),
);
const environment = fc.record({
  CNI_COMMAND: commands,
  CNI_CONTAINERID: variable,
  CNI_NETNS: variable,
  CNI_IFNAME: variable,
  CNI_ARGS: variable,
  CNI_PATH: variable,
  CNI_NETNS_OVERRIDE: variable,
});

const json = fc.jsonValue({ maxDepth: 3 });
const conf = fc.record(
  {
    cniVersion: fc.oneof(fc.constantFrom(...ALL_SPEC_VERSIONS, '', '9.9.9', 'x.y'), json),
    name: fc.oneof(fc.constantFrom('net', '', 'a b'), json),
    type: fc.oneof(fc.constant('probe'), json),
    prevResult: fc.oneof(
      fc.constant({ ips: [{ version: '4', address: '10.0.0.3/24' }] }),
      fc.constant({ cniVersion: '1.1.0', ips: [{ address: '10.0.0.3/24' }] }),
      fc.constant({ ip4: { ip: '10.0.0.3/24' } }),
      json,
    ),
    ipam: json,
    dns: json,
  },
  { requiredKeys: [] },
);
const stdin = fc.oneof(
  conf.map((value) => JSON.stringify(value)),
  json.map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }),
);

describe('runPlugin, whatever the request', () => {
  it('resolves to 0 or 1, prints an error JSON exactly when it fails, and never throws', async () => {
    await fc.assert(
      fc.asyncProperty(environment, stdin, async (rawEnv, input) => {
        const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== undefined)) as Record<string, string>;
        let stdout = '';
        let exited: number | undefined;
        const code = await runPlugin(probe, {
          env,
          stdin: input,
          stdout: { write: (text: string) => (stdout += text) },
          stderr: { write: () => {} },
          exit: (status) => (exited = status),
        });
        expect(exited).toBe(code);
        if (code === 1) {
          const error = JSON.parse(stdout) as Record<string, unknown>;
          expect(typeof error.code).toBe('number');
          expect(typeof error.msg).toBe('string');
          expect(Object.keys(error).every((key) => ['code', 'msg', 'details'].includes(key))).toBe(true);
        } else {
          expect(code).toBe(0);
          // Success prints nothing, a result, or the VERSION answer: JSON either way.
          if (stdout !== '') expect(() => JSON.parse(stdout)).not.toThrow();
        }
      }),
      { numRuns: 400 },
    );
  }, 30_000); // 400 runs take under 2 s here; leave room on a loaded CI machine
});
