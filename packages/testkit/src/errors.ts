// SPDX-License-Identifier: Apache-2.0

const marker = Symbol.for('cni.testkit.error');

/**
 * The base of every error the test kit throws: a fixture that could not be set up or torn down,
 * a command that failed, or a leak found after a test.
 */
export class TestkitError extends Error {
  /** @internal Marks TestkitError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'TestkitError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }

  /** True for a TestkitError, also one made by another copy of this package. */
  static isInstance(value: unknown): value is TestkitError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

const commandMarker = Symbol.for('cni.testkit.command-error');

/** A command exited with a status other than 0 (or was killed); carries its output for the test log. */
export class CommandError extends TestkitError {
  /** @internal Marks CommandError across copies of this package. */
  readonly [commandMarker] = true as const;
  override readonly name: string = 'CommandError';
  /** The command line, as run. */
  readonly argv: readonly string[];
  /** The exit status, or null when a signal ended it. */
  readonly exitCode: number | null;
  /** What it printed on stdout. */
  readonly stdout: string;
  /** What it printed on stderr. */
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | null, stdout: string, stderr: string, signal?: string | null) {
    const status = exitCode === null ? `signal ${signal ?? 'unknown'}` : `status ${exitCode}`;
    super(`command "${argv.join(' ')}" failed with ${status}: ${stderr.trim() || stdout.trim()}`);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** True for a CommandError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is CommandError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[commandMarker] === true;
  }
}

const leakMarker = Symbol.for('cni.testkit.leak-error');

/** Something a test made is still there after it: a link, an address, a rule, a table, a file. */
export class LeakError extends TestkitError {
  /** @internal Marks LeakError across copies of this package. */
  readonly [leakMarker] = true as const;
  override readonly name: string = 'LeakError';
  /** One line per leaked object, `<where> <kind> <object>`. */
  readonly leaks: readonly string[];

  constructor(leaks: readonly string[]) {
    super(`test left ${leaks.length} object(s) behind:\n  ${leaks.join('\n  ')}`);
    this.leaks = leaks;
  }

  /** True for a LeakError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is LeakError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[leakMarker] === true;
  }
}
