// SPDX-License-Identifier: Apache-2.0
import { onTestFinished, type TestContext } from 'vitest';
import { TestkitError } from './errors.ts';

/** Where a fixture registers its teardown: the test's context (needed in concurrent tests), or the current test. */
export interface FixtureScope {
  /**
   * The test's context (`it('...', async (context) => ...)`). Give it in `it.concurrent` tests,
   * where "the current test" is ambiguous; otherwise the running test is used.
   */
  context?: Pick<TestContext, 'onTestFinished'>;
}

/**
 * Runs `teardown` when the current test finishes, passed or failed. Call it inside a test or a
 * `beforeEach` hook.
 */
export function registerTeardown(teardown: () => Promise<void> | void, scope: FixtureScope = {}): void {
  try {
    if (scope.context) scope.context.onTestFinished(teardown);
    else onTestFinished(teardown);
  } catch (error) {
    throw new TestkitError(`failed to register a fixture teardown: fixtures must be made inside a test or a beforeEach hook`, { cause: error });
  }
}
