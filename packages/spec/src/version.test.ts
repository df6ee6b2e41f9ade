// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { assertVersionSupported, CniError, compareVersions, negotiateConfigVersion, specVersionHas } from './index.ts';

describe('versions', () => {
  it('compares numerically', () => {
    expect(compareVersions('0.10.0', '0.4.0')).toBeGreaterThan(0);
    expect(compareVersions('1.1.0', '1.1.0')).toBe(0);
  });

  it('gates CHECK, GC and STATUS', () => {
    expect(specVersionHas('check', '0.3.1')).toBe(false);
    expect(specVersionHas('check', '0.4.0')).toBe(true);
    expect(specVersionHas('gc', '1.0.0')).toBe(false);
    expect(specVersionHas('status', '1.1.0')).toBe(true);
    expect(specVersionHas('check', '')).toBe(false);
  });

  it('picks the highest common version, dropping versions newer than ours', () => {
    expect(negotiateConfigVersion('0.4.0', ['1.0.0', '1.1.0', '9.9.9'])).toBe('1.1.0');
    expect(negotiateConfigVersion('1.0.0', undefined)).toBe('1.0.0');
  });

  it('reports an unsupported version with code 1 and upstream text', () => {
    try {
      assertVersionSupported('0.9.9', ['0.4.0', '1.0.0']);
      expect.unreachable();
    } catch (error) {
      expect(CniError.isInstance(error)).toBe(true);
      expect((error as CniError).toJSON()).toEqual({
        code: 1,
        msg: 'incompatible CNI versions',
        details: 'config is "0.9.9", plugin supports ["0.4.0" "1.0.0"]',
      });
    }
  });
});
