// SPDX-License-Identifier: Apache-2.0
import { createRequire } from 'node:module';
import type * as FfiRs from 'ffi-rs';
import { nodeRequire } from './require.ts';

/** The ffi-rs module, as `import * as ffi from 'ffi-rs'` gives it. */
export type FfiModule = typeof FfiRs;

/** The part of the native binding this file calls directly. */
interface NativeBinding {
  DataType: Record<string, number>;
  FFITypeTag: Record<string, number>;
  open(params: { library: string; path: string }): void;
  load(params: Record<string, unknown>): unknown;
  [name: string]: unknown;
}

/** ffi-rs's data types, as numbers, so that no code loads ffi-rs to name them. */
export const T = {
  String: 0,
  I32: 1,
  Void: 7,
  I64: 8,
  U8Array: 10,
  External: 11,
  U64: 12,
  U32: 20,
} as const;

const ARRAY_TAG = 997; // FFITypeTag.Array
const FUNCTION_TAG = 998; // FFITypeTag.Function
const ARRAY_TYPES = new Set([3, 4, 5, 10, 13, 19]); // I32Array, StringArray, DoubleArray, U8Array, FloatArray, I16Array

let native: NativeBinding | undefined;
let module: FfiModule | undefined;
const LIBC = 'cni-sys-libc';

/**
 * The native binding of ffi-rs, loaded on first use.
 *
 * ffi-rs's own entry point asks `process.report.getReport()` whether the C library is musl,
 * which costs 5 to 8 ms in every process that loads it: that is more than the rest of a plugin's
 * FFI setup. The glibc binding is tried first by its package name (it sits next to ffi-rs);
 * anything else (musl, another architecture, a bundler that moved things) falls back to the
 * ordinary entry point.
 */
function loadNative(): NativeBinding {
  if (native) return native;
  const require = nodeRequire();
  let binding: NativeBinding | undefined;
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      const fromFfi = createRequire(require.resolve('ffi-rs'));
      binding = fromFfi(`@yuuang/ffi-rs-linux-${process.arch}-gnu`) as NativeBinding;
    } catch {
      binding = undefined;
    }
  }
  if (!binding) {
    const full = require('ffi-rs') as FfiModule;
    module = full;
    binding = full as unknown as NativeBinding;
  }
  // Symbols of the process itself: libc is always there, and dlopen(NULL) names no file,
  // so the same code works with glibc and musl.
  binding.open({ library: LIBC, path: '' });
  native = binding;
  return binding;
}

/** Expand plain array types into the `{ length }` form the native binding needs. */
function withArrays(params: Record<string, unknown>): Record<string, unknown> {
  const types = params.paramsType as unknown[] | undefined;
  const values = params.paramsValue as { length: number }[] | undefined;
  if (!types) return params;
  return {
    ...params,
    paramsType: types.map((type, index) =>
      typeof type === 'number' && ARRAY_TYPES.has(type) ? { ffiTypeTag: ARRAY_TAG, type, length: values?.[index]?.length ?? 0 } : type,
    ),
  };
}

/**
 * The ffi-rs module, loaded once per process without its musl probe (see {@link loadNative}).
 * It behaves as `import('ffi-rs')` does; @cni/netlink's internal/ffi may take it from here to
 * share the fast load.
 */
export function loadFfi(): FfiModule {
  if (module) return module;
  const binding = loadNative();
  if (module) return module;
  const load = (params: Record<string, unknown>) =>
    binding.load(withArrays({ ...params, freeResultMemory: params.freeResultMemory ?? false }));
  const arrayConstructor = (options: Record<string, unknown>) => ({ ffiTypeTag: ARRAY_TAG, ...options });
  const wrapped = {
    ...binding,
    DataType: { ...binding.DataType, StackStruct: 999, Function: 998, Array: 997, StackArray: 996 },
    load,
    createPointer: (params: Record<string, unknown>) => (binding.createPointer as (p: unknown) => unknown)(withArrays(params)),
    restorePointer: (params: Record<string, unknown>) => (binding.restorePointer as (p: unknown) => unknown)(withArrays(params)),
    unwrapPointer: (params: Record<string, unknown>) => (binding.unwrapPointer as (p: unknown) => unknown)(withArrays(params)),
    wrapPointer: (params: Record<string, unknown>) => (binding.wrapPointer as (p: unknown) => unknown)(withArrays(params)),
    freePointer: (params: Record<string, unknown>) => {
      const expanded = withArrays(params);
      const types = (expanded.paramsType as Record<string, unknown>[]).map((type) =>
        typeof type === 'object' && type.ffiTypeTag === FUNCTION_TAG ? { ...type, needFree: true } : type,
      );
      return (binding.freePointer as (p: unknown) => unknown)({ ...expanded, paramsType: types });
    },
    arrayConstructor,
    funcConstructor: (options: Record<string, unknown>) => ({ ffiTypeTag: FUNCTION_TAG, needFree: false, freeCFuncParamsMemory: false, ...options }),
    define: (functions: Record<string, Record<string, unknown>>) =>
      Object.fromEntries(
        Object.entries(functions).map(([funcName, description]) => [
          funcName,
          (paramsValue: unknown[] = []) => load({ ...description, funcName, paramsValue }),
        ]),
      ),
  };
  module = wrapped as unknown as FfiModule;
  return module;
}

/** The outcome of one libc call: its return value and the errno right after it. */
export interface CallResult {
  value: number;
  errno: number;
  message: string;
}

/**
 * Call a libc function on the calling thread and read errno right after it.
 * `types` may hold plain data types; a Buffer parameter is passed as a pointer to its bytes,
 * which the function may write into.
 */
export function libc(funcName: string, retType: number, types: readonly number[], values: readonly unknown[]): CallResult {
  const binding = loadNative();
  const paramsType = types.map((type, index) =>
    type === T.U8Array ? { ffiTypeTag: ARRAY_TAG, type, length: (values[index] as Buffer).length } : type,
  );
  const result = binding.load({
    library: LIBC,
    funcName,
    retType,
    paramsType,
    paramsValue: values,
    errno: true,
    freeResultMemory: false,
  }) as { value: number; errnoCode: number; errnoMessage: string };
  return { value: result.value, errno: result.errnoCode, message: result.errnoMessage };
}

/**
 * The same call on a fresh thread, for calls that block (a waiting `flock`, `poll`): the event
 * loop keeps running. Never for namespace-sensitive calls, which must run on the calling thread.
 */
export async function libcOnThread(funcName: string, retType: number, types: readonly number[], values: readonly unknown[]): Promise<CallResult> {
  const binding = loadNative();
  const paramsType = types.map((type, index) =>
    type === T.U8Array ? { ffiTypeTag: ARRAY_TAG, type, length: (values[index] as Buffer).length } : type,
  );
  const result = (await binding.load({
    library: LIBC,
    funcName,
    retType,
    paramsType,
    paramsValue: values,
    errno: true,
    freeResultMemory: false,
    runInNewThread: true,
  })) as { value: number; errnoCode: number; errnoMessage: string };
  return { value: result.value, errno: result.errnoCode, message: result.errnoMessage };
}
