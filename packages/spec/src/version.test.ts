// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import {
  ALL_SPEC_VERSIONS,
  assertVerbAllowed,
  assertVersionSupported,
  CniError,
  compareVersions,
  CURRENT_SPEC_VERSION,
  highestCommonVersion,
  isSpecVersion,
  negotiateConfigVersion,
  specVersionHas,
  versionInfo,
  versionsStartingFrom,
} from './index.ts';

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

  it('negotiates as libcni: cniVersion alone, or the highest usable of cniVersions and cniVersion', () => {
    expect(negotiateConfigVersion(undefined, undefined)).toBe('0.1.0');
    expect(negotiateConfigVersion('', undefined)).toBe('0.1.0');
    expect(negotiateConfigVersion('9.9.9', undefined)).toBe('9.9.9');
    expect(negotiateConfigVersion('9.9.9', ['0.4.0'])).toBe('0.4.0');
    expect(negotiateConfigVersion('1.0.0', ['0.4.0', 'junk'])).toBe('1.0.0');
    expect(negotiateConfigVersion('0.3.1', ['2.0.0'])).toBe('0.3.1');
    expect(negotiateConfigVersion(undefined, ['0.10.0', '0.4.0'])).toBe('0.10.0');
    expect(negotiateConfigVersion(undefined, [])).toBe('0.1.0');
  });

  it('finds the highest version two sides share', () => {
    expect(highestCommonVersion(['0.4.0', '1.0.0', '1.1.0'], ['0.3.1', '0.4.0', '1.0.0'])).toBe('1.0.0');
    expect(highestCommonVersion(['1.1.0'], ['0.4.0'])).toBeUndefined();
  });

  it('knows every spec version and answers VERSION', () => {
    expect(ALL_SPEC_VERSIONS).toEqual(['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
    expect(CURRENT_SPEC_VERSION).toBe('1.1.0');
    expect(isSpecVersion('0.3.1')).toBe(true);
    expect(isSpecVersion('0.5.0')).toBe(false);
    expect(versionInfo(['0.4.0', '1.0.0'])).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.4.0', '1.0.0'] });
  });

  it('refuses to compare strings that are not versions (code 1)', () => {
    expect(() => compareVersions('1.x', '1.0.0')).toThrow(CniError);
  });

  it('reads an empty config version as 0.1.0 when checking support', () => {
    expect(() => assertVersionSupported('', ['0.1.0'])).not.toThrow();
    expect(() => assertVersionSupported(undefined, ['0.2.0'])).toThrow('incompatible CNI versions');
  });

  it('lists the versions from a minimum on', () => {
    expect(versionsStartingFrom('0.4.0')).toEqual(['0.4.0', '1.0.0', '1.1.0']);
    expect(versionsStartingFrom('0.1.0')).toEqual(ALL_SPEC_VERSIONS);
  });

  it('gates CHECK, GC and STATUS with skel messages', () => {
    const all = ALL_SPEC_VERSIONS;
    const error = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return (e as CniError).toJSON();
      }
      return undefined;
    };
    expect(error(() => assertVerbAllowed('CHECK', '0.3.1', all))).toEqual({ code: 1, msg: 'config version does not allow CHECK' });
    expect(error(() => assertVerbAllowed('CHECK', '0.4.0', all))).toBeUndefined();
    expect(error(() => assertVerbAllowed('GC', '1.0.0', all))).toEqual({ code: 1, msg: 'config version does not allow GC' });
    expect(error(() => assertVerbAllowed('STATUS', '1.1.0', ['0.4.0', '1.0.0']))).toEqual({
      code: 1,
      msg: 'plugin version does not allow STATUS',
    });
    expect(error(() => assertVerbAllowed('GC', '1.1.0', all))).toBeUndefined();
    expect(error(() => assertVerbAllowed('CHECK', '1.0.0', ['1.1.0']))?.msg).toBe('incompatible CNI versions');
    expect(error(() => assertVerbAllowed('CHECK', '1.x', all))?.code).toBe(6);
    expect(error(() => assertVerbAllowed('CHECK', undefined, all))?.msg).toBe('config version does not allow CHECK');
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
