// SPDX-License-Identifier: Apache-2.0
// A small stand-in for the 'vitest' module inside the VM. Under TCG every module vitest loads
// costs 50 to 100 times its native time, so the VM tier bundles each *.vm.test.ts with this file
// in place of 'vitest': the same describe/it/expect API (expect is vitest's own, from
// @vitest/expect), collected and run by run-tests.mjs in the VM.
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  ChaiStyleAssertions,
  GLOBAL_EXPECT,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  chai,
  customMatchers,
  getState,
  setState,
} from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

/** vitest's expect, without snapshots and polling. */
export const expect = (value, message) => {
  const state = getState(expect);
  setState({ assertionCalls: state.assertionCalls + 1 }, expect);
  return chai.expect(value, message);
};
Object.assign(expect, chai.expect);
Object.assign(expect, globalThis[ASYMMETRIC_MATCHERS_OBJECT]);
expect.getState = () => getState(expect);
expect.setState = (state) => setState(state, expect);
setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null, currentTestName: '' }, expect);
expect.assert = chai.assert;
expect.extend = (matchers) => chai.expect.extend(expect, matchers);
expect.unreachable = (message) => chai.assert.fail(`expected${message ? ` "${message}" ` : ' '}not to be reached`);
expect.extend(customMatchers);
globalThis[GLOBAL_EXPECT] = expect;
export const assert = chai.assert;

// The registry lives on globalThis: every bundle carries its own copy of this module.
const registry = (globalThis.__cniVmTests ??= { root: undefined, current: undefined, storage: new AsyncLocalStorage() });

function newSuite(name, parent, mode = 'run', concurrent = false) {
  return { kind: 'suite', name, parent, mode, concurrent: concurrent || parent?.concurrent || false, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
}


function format(name, args) {
  let index = 0;
  return String(name).replace(/%[sdifjo%]/g, (token) => (token === '%%' ? '%' : index < args.length ? (typeof args[index] === 'object' ? JSON.stringify(args[index++]) : String(args[index++])) : token));
}

function eachTable(table) {
  return table.map((row) => (Array.isArray(row) ? row : [row]));
}

function makeDescribe(flags = {}) {
  const describe = (name, optionsOrFn, maybeFn) => {
    const fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
    const parent = registry.current;
    const suite = newSuite(name, parent, flags.skip ? 'skip' : flags.todo ? 'todo' : 'run', flags.concurrent);
    parent.children.push(suite);
    registry.current = suite;
    try {
      fn?.();
    } finally {
      registry.current = parent;
    }
  };
  describe.skip = (...args) => makeDescribe({ ...flags, skip: true })(...args);
  describe.only = describe;
  describe.todo = (name) => makeDescribe({ ...flags, todo: true })(name, () => {});
  describe.skipIf = (condition) => makeDescribe({ ...flags, skip: flags.skip || Boolean(condition) });
  describe.runIf = (condition) => makeDescribe({ ...flags, skip: flags.skip || !condition });
  describe.each = (table) => (name, fn) => {
    for (const args of eachTable(table)) describe(format(name, args), () => fn(...args));
  };
  Object.defineProperty(describe, 'concurrent', { get: () => makeDescribe({ ...flags, concurrent: true }) });
  Object.defineProperty(describe, 'sequential', { get: () => makeDescribe({ ...flags, concurrent: false }) });
  return describe;
}

function makeTest(flags = {}) {
  const test = (name, optionsOrFn, maybeFn) => {
    let fn = typeof optionsOrFn === 'function' ? optionsOrFn : maybeFn;
    let timeout = typeof maybeFn === 'number' ? maybeFn : typeof optionsOrFn === 'object' ? optionsOrFn?.timeout : undefined;
    if (typeof optionsOrFn === 'function' && typeof maybeFn === 'number') timeout = maybeFn;
    registry.current.children.push({
      kind: 'test',
      name,
      fn,
      timeout,
      mode: flags.skip ? 'skip' : flags.todo || !fn ? 'todo' : 'run',
      concurrent: flags.concurrent || registry.current.concurrent,
      fails: Boolean(flags.fails),
    });
  };
  test.skip = (...args) => makeTest({ ...flags, skip: true })(...args);
  test.only = test;
  test.todo = (name) => makeTest({ ...flags, todo: true })(name);
  test.fails = (...args) => makeTest({ ...flags, fails: true })(...args);
  test.skipIf = (condition) => makeTest({ ...flags, skip: flags.skip || Boolean(condition) });
  test.runIf = (condition) => makeTest({ ...flags, skip: flags.skip || !condition });
  test.each = (table) => (name, fn, timeout) => {
    for (const args of eachTable(table)) test(format(name, args), () => fn(...args), timeout);
  };
  test.for = (table) => (name, fn) => {
    for (const args of table) test(format(name, Array.isArray(args) ? args : [args]), (context) => fn(args, context));
  };
  Object.defineProperty(test, 'concurrent', { get: () => makeTest({ ...flags, concurrent: true }) });
  Object.defineProperty(test, 'sequential', { get: () => makeTest({ ...flags, concurrent: false }) });
  return test;
}

export const describe = makeDescribe();
export const suite = describe;
export const it = makeTest();
export const test = it;

export const beforeAll = (fn) => registry.current.beforeAll.push(fn);
export const afterAll = (fn) => registry.current.afterAll.push(fn);
export const beforeEach = (fn) => registry.current.beforeEach.push(fn);
export const afterEach = (fn) => registry.current.afterEach.push(fn);

function currentTest(hook) {
  const running = registry.storage.getStore();
  if (!running) throw new Error(`Hook ${hook}() can only be called inside a test`);
  return running;
}
export const onTestFinished = (fn) => currentTest('onTestFinished').finished.push(fn);
export const onTestFailed = (fn) => currentTest('onTestFailed').failed.push(fn);

/** Placeholder for the few `vi` helpers VM tests might touch; mocks are for unit tests. */
export const vi = {
  waitFor: async (fn, options = {}) => {
    const timeout = typeof options === 'number' ? options : options.timeout ?? 1000;
    const interval = typeof options === 'number' ? 50 : options.interval ?? 50;
    const end = Date.now() + timeout;
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        if (Date.now() > end) throw error;
        await new Promise((resolve) => setTimeout(resolve, interval));
      }
    }
  },
};
