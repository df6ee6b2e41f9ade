// SPDX-License-Identifier: Apache-2.0
// Exercises the VM runner's stand-in for vitest (vitest-shim.mjs, run-tests.mjs); src/vm-runner.test.ts
// runs it on the host with `run-vm-tier.mjs --host` and checks the counts and the order of events.
import { afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';

const events: string[] = [];
const log = (event: string): void => {
  events.push(event);
  console.log(`EVENT ${event}`);
};

describe('hooks and teardown', () => {
  beforeAll(() => log('beforeAll'));
  beforeEach(() => log('beforeEach'));
  afterEach(() => log('afterEach'));

  it('runs onTestFinished in reverse order after afterEach', () => {
    onTestFinished(() => log('finished 1'));
    onTestFinished(() => log('finished 2'));
    log('test');
  });

  it('sees the previous events', () => {
    expect(events).toEqual(['beforeAll', 'beforeEach', 'test', 'afterEach', 'finished 2', 'finished 1', 'beforeEach']);
  });
});

describe('expect', () => {
  it('has the vitest matchers', async () => {
    expect({ a: 1, b: [1, 2] }).toEqual({ a: 1, b: [1, 2] });
    expect([{ name: 'eth0', mtu: 1500 }]).toContainEqual(expect.objectContaining({ name: 'eth0' }));
    expect({ kind: 'ipvlan', data: { mode: 'l2' } }).toMatchObject({ data: { mode: 'l2' } });
    expect('10.0.0.1/24').toMatch(/^10\./);
    await expect(Promise.reject(new Error('boom'))).rejects.toThrow('boom');
    await expect(Promise.resolve(3)).resolves.toBe(3);
    expect(() => {
      throw new TypeError('bad');
    }).toThrow(TypeError);
  });

  it('fails on a wrong value', () => {
    expect(1).toBe(2);
  });
});

describe.each(['0.4.0', '1.0.0'])('[%s] each', (version) => {
  it('gets its row', () => {
    expect(['0.4.0', '1.0.0']).toContain(version);
  });
});

describe.skipIf(true)('skipped suite', () => {
  it('never runs', () => {
    throw new Error('ran');
  });
});

describe.concurrent('concurrency', () => {
  let running = 0;
  let peak = 0;
  for (const name of ['a', 'b']) {
    it(`overlaps ${name}`, async (context) => {
      running += 1;
      peak = Math.max(peak, running);
      context.onTestFinished(() => log(`concurrent finished ${name}`));
      await new Promise((resolve) => setTimeout(resolve, 50));
      running -= 1;
    });
  }
  it.skip('is skipped', () => {});
  describe('after', () => {
    it('saw both at once', () => {
      expect(peak).toBe(2);
    });
  });
});

it('times out', { timeout: 100 }, async () => {
  await new Promise((resolve) => setTimeout(resolve, 1000));
});
