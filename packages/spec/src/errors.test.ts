// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { CNI_ERROR_CODES, CniError, formatError, invalidConfigError, isCniErrorJson, toCniError, unsupportedFieldError } from './index.ts';

describe('CniError', () => {
  it('has the code map of the spec and upstream pkg/types', () => {
    expect(CNI_ERROR_CODES).toEqual({
      UNKNOWN: 0,
      INCOMPATIBLE_CNI_VERSION: 1,
      UNSUPPORTED_FIELD: 2,
      UNKNOWN_CONTAINER: 3,
      INVALID_ENVIRONMENT_VARIABLES: 4,
      IO_FAILURE: 5,
      DECODING_FAILURE: 6,
      INVALID_NETWORK_CONFIG: 7,
      INVALID_NETNS: 8,
      TRY_AGAIN_LATER: 11,
      PLUGIN_NOT_AVAILABLE: 50,
      LIMITED_CONNECTIVITY: 51,
      INTERNAL: 999,
    });
  });

  it('carries details and cause, and prints only code, msg and details', () => {
    const cause = new Error('EACCES');
    const error = new CniError(CNI_ERROR_CODES.IO_FAILURE, 'failed to read "/x"', { details: 'permission denied', cause });
    expect(error.cause).toBe(cause);
    expect(error.toJSON()).toEqual({ code: 5, msg: 'failed to read "/x"', details: 'permission denied' });
    expect(formatError(error)).not.toContain('EACCES');
  });

  it('is recognised across copies of the package', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('cni.error')]: true, code: 7 });
    expect(CniError.isInstance(foreign)).toBe(true);
    expect(CniError.isInstance(new Error('x'))).toBe(false);
    expect(CniError.isInstance(null)).toBe(false);
  });

  it('turns anything thrown into a CniError, passing CniErrors through', () => {
    const own = new CniError(2, 'unsupported mode "x"');
    expect(toCniError(own)).toBe(own);
    expect(toCniError(new Error('boom')).toJSON()).toEqual({ code: 999, msg: 'boom' });
    expect(toCniError('text', 11).toJSON()).toEqual({ code: 11, msg: 'text' });
  });

  it('words field errors with the key and the value', () => {
    expect(unsupportedFieldError('mode', 'foo', 'one of bridge, private').toJSON()).toEqual({
      code: 2,
      msg: 'unsupported mode "foo", must be one of bridge, private',
    });
    expect(invalidConfigError('mtu', -1, 'a positive integer').toJSON()).toEqual({ code: 7, msg: 'invalid mtu -1, must be a positive integer' });
  });

  it('reads its wire form back', () => {
    const json = { code: 50, msg: 'not ready', details: 'waiting for the daemon' };
    expect(isCniErrorJson(json)).toBe(true);
    expect(isCniErrorJson({ msg: 'x' })).toBe(false);
    expect(CniError.fromJSON(json).toJSON()).toEqual(json);
  });
});
