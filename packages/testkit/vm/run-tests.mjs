// SPDX-License-Identifier: Apache-2.0
// Runs bundled *.vm.test.ts files inside the VM: imports each (its describe/it calls register in
// the registry vitest-shim.mjs shares on globalThis), runs the tests with vitest's semantics for
// hooks, skips, concurrency and onTestFinished, and prints one line per test and a summary line
// that run-vm-tier.mjs reads from the serial console.
//
// usage: node run-tests.mjs <bundle.mjs>...    (env CNI_VM_TEST_TIMEOUT_MS, default 120000)
import { AsyncLocalStorage } from 'node:async_hooks';
import { pathToFileURL } from 'node:url';

const registry = (globalThis.__cniVmTests ??= { root: undefined, current: undefined, storage: new AsyncLocalStorage() });
const defaultTimeout = Number(process.env.CNI_VM_TEST_TIMEOUT_MS ?? 120_000);
const counts = { passed: 0, failed: 0, skipped: 0 };
const skippedTests = [];
const failures = [];

class SkipSignal extends Error {}

function newSuite(name, parent) {
  return { kind: 'suite', name, parent, mode: 'run', concurrent: false, children: [], beforeAll: [], afterAll: [], beforeEach: [], afterEach: [] };
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out in ${ms}ms`)), ms);
    }),
  ]);
}

function describeError(error) {
  if (error instanceof Error) return (error.stack ?? `${error.name}: ${error.message}`).split('\n').slice(0, 12).join('\n');
  return String(error);
}

function report(status, path, ms, error) {
  const mark = { passed: '✓', failed: '✗', skipped: '↓' }[status];
  counts[status] += 1;
  if (status === 'skipped') skippedTests.push(path.join(' > '));
  console.log(`  ${mark} ${path.join(' > ')}${ms === undefined ? '' : ` ${ms}ms`}`);
  if (error !== undefined) {
    const text = describeError(error);
    failures.push(`${path.join(' > ')}\n${text}`);
    console.log(text.replace(/^/gm, '      '));
  }
}

function skipAll(node, path) {
  if (node.kind === 'test') return report('skipped', [...path, node.name]);
  for (const child of node.children) skipAll(child, [...path, node.name]);
}

async function runTest(test, suites, path) {
  const fullPath = [...path, test.name];
  if (test.mode !== 'run') return report('skipped', fullPath);
  const record = { finished: [], failed: [] };
  const context = {
    task: { name: test.name },
    onTestFinished: (fn) => record.finished.push(fn),
    onTestFailed: (fn) => record.failed.push(fn),
    skip: () => {
      throw new SkipSignal();
    },
  };
  const started = Date.now();
  let error;
  let skipped = false;
  await registry.storage.run(record, async () => {
    try {
      for (const suite of suites) for (const hook of suite.beforeEach) await hook(context);
      await withTimeout(Promise.resolve().then(() => test.fn(context)), test.timeout ?? defaultTimeout, `test "${test.name}"`);
    } catch (caught) {
      if (caught instanceof SkipSignal) skipped = true;
      else error = caught ?? new Error('undefined thrown');
    }
    for (const suite of [...suites].reverse()) {
      for (const hook of suite.afterEach) {
        try {
          await hook(context);
        } catch (caught) {
          error ??= caught;
        }
      }
    }
    if (error !== undefined) for (const fn of record.failed) await Promise.resolve(fn(context)).catch(() => {});
    // vitest runs onTestFinished in reverse order of registration: teardown undoes setup.
    for (const fn of record.finished.reverse()) {
      try {
        await withTimeout(Promise.resolve().then(() => fn(context)), defaultTimeout, 'onTestFinished');
      } catch (caught) {
        error ??= caught;
      }
    }
  });
  if (test.fails) error = error === undefined ? new Error('expected test to fail') : undefined;
  if (skipped && error === undefined) return report('skipped', fullPath);
  report(error === undefined ? 'passed' : 'failed', fullPath, Date.now() - started, error);
}

async function runSuite(suite, suites, path) {
  const here = suite.parent === undefined ? path : [...path, suite.name];
  if (suite.mode !== 'run') {
    for (const child of suite.children) skipAll(child, here);
    return;
  }
  const chain = [...suites, suite];
  try {
    for (const hook of suite.beforeAll) await hook();
  } catch (error) {
    report('failed', [...here, '(beforeAll)'], undefined, error);
    for (const child of suite.children) skipAll(child, here);
    return;
  }
  let batch = [];
  const flush = async () => {
    await Promise.all(batch.map((test) => runTest(test, chain, here)));
    batch = [];
  };
  for (const child of suite.children) {
    if (child.kind === 'test' && child.concurrent) {
      batch.push(child);
      continue;
    }
    await flush();
    if (child.kind === 'test') await runTest(child, chain, here);
    else await runSuite(child, chain, here);
  }
  await flush();
  for (const hook of suite.afterAll) {
    try {
      await hook();
    } catch (error) {
      report('failed', [...here, '(afterAll)'], undefined, error);
    }
  }
}

const started = Date.now();
for (const file of process.argv.slice(2)) {
  const name = file.replace(/\.vm-bundle\.mjs$/, '.ts').replace(/^.*?\/(packages|apps|integration)\//, '$1/');
  console.log(`\n${name}`);
  registry.root = newSuite(name, undefined);
  registry.current = registry.root;
  const fileStarted = Date.now();
  try {
    await import(pathToFileURL(file).href);
  } catch (error) {
    report('failed', [name, '(import)'], undefined, error);
    continue;
  }
  await runSuite(registry.root, [], [name]);
  console.log(`  (${Date.now() - fileStarted}ms)`);
}

console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped in ${Date.now() - started}ms`);
if (failures.length > 0) console.log(`\nfailures:\n${failures.join('\n\n')}`);
console.log(`CNI-VM-RESULT ${JSON.stringify({ ...counts, skippedTests })}`);
process.exitCode = counts.failed > 0 ? 1 : 0;
