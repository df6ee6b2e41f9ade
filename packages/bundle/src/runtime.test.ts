// SPDX-License-Identifier: Apache-2.0
import { definePlugin } from '@cni/skel';
import { describe, expect, it } from 'vitest';
import { pickPlugin } from './runtime.ts';

const one = definePlugin({ name: 'one', versions: ['1.1.0'], add: () => ({ cniVersion: '1.1.0' }), del: () => undefined });
const two = definePlugin({ name: 'two', versions: ['1.1.0'], add: () => ({ cniVersion: '1.1.0' }), del: () => undefined });

describe('the export shape of a user\'s plugin module', () => {
  it('takes the export named "plugin" first, then the default export', () => {
    expect(pickPlugin({ plugin: one, other: two }, 'm')).toBe(one);
    expect(pickPlugin({ default: two, other: one }, 'm')).toBe(two);
    expect(pickPlugin({ default: { plugin: one } }, 'm')).toBe(one);
  });

  it('takes the only definePlugin value of a module', () => {
    expect(pickPlugin({ myVeth: one, helper: () => 1 }, 'm')).toBe(one);
  });

  it('names the module when it exports none, or several', () => {
    expect(() => pickPlugin({ helper: () => 1 }, './veth')).toThrow('./veth exports no plugin: export a definePlugin value as "plugin" or as the default export');
    expect(() => pickPlugin({ one, two }, 'pkg')).toThrow('pkg exports 2 plugins (one, two): export the one to bundle as "plugin"');
  });
});
