// SPDX-License-Identifier: Apache-2.0
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_ERROR_CODES, CniError, isCniErrorJson } from '@cni/spec';
import type { ConfigCommand } from './env.ts';

/** Where a plugin writes text: `process.stdout`, or anything with a `write(text)` in tests. */
export interface TextSink {
  write(text: string): unknown;
}

/** One run of a delegate plugin, as {@link DelegateRunner} receives it. */
export interface DelegateInvocation {
  /** The plugin type the caller asked for (`host-local`). */
  type: string;
  /** The executable found for it in CNI_PATH. */
  pluginPath: string;
  /** The verb the delegate runs; also in `env.CNI_COMMAND`. */
  command: ConfigCommand;
  /** The delegate's whole environment: the caller's, with CNI_COMMAND set to `command`. */
  env: Record<string, string>;
  /** The configuration the delegate reads on stdin. */
  stdin: Uint8Array;
  /** Where the delegate's own diagnostics (its stderr) go: the caller's stderr. */
  stderr: TextSink;
}

/**
 * Runs a delegate and returns what it printed on stdout; on failure throws the delegate's
 * error as a CniError, unchanged. The default, {@link execDelegate}, starts the executable;
 * a runner that knows the bundle's executables can run a plugin value in-process instead.
 */
export type DelegateRunner = (invocation: DelegateInvocation) => Promise<Uint8Array>;

/**
 * Find plugin `type` in `dirs` as upstream's `invoke.FindInPath` does: the first regular file
 * named `type`. Throws code 999 with upstream's texts (`failed to find plugin "x" in path [...]`).
 */
export function findInPath(type: string, dirs: readonly string[]): string {
  const fail = (message: string) => new CniError(CNI_ERROR_CODES.INTERNAL, message);
  if (type === '') throw fail('no plugin name provided');
  if (type.includes('/')) throw fail(`invalid plugin name: ${type}`);
  if (dirs.length === 0) throw fail('no paths provided');
  for (const dir of dirs) {
    const candidate = join(dir, type);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this folder: try the next, as upstream does.
    }
  }
  throw fail(`failed to find plugin "${type}" in path [${dirs.join(' ')}]`);
}

/**
 * The error a runtime reads from a failed plugin, by upstream's `RawExec.pluginErr`: the error
 * JSON on its stdout, unchanged; without one, a code-999 error that quotes what it printed.
 */
export function delegateError(reason: string, stdout: Uint8Array, stderr: Uint8Array): CniError {
  const out = Buffer.from(stdout).toString('utf8');
  if (out.length === 0) {
    const err = Buffer.from(stderr).toString('utf8');
    return new CniError(
      CNI_ERROR_CODES.INTERNAL,
      err.length === 0 ? `netplugin failed with no error message: ${reason}` : `netplugin failed: ${JSON.stringify(err)}: ${reason}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(out);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return new CniError(
      CNI_ERROR_CODES.INTERNAL,
      `netplugin failed but error parsing its diagnostic message ${JSON.stringify(out)}: ${why}`,
    );
  }
  if (!isCniErrorJson(parsed)) {
    return new CniError(CNI_ERROR_CODES.INTERNAL, `netplugin failed but printed no error: ${JSON.stringify(out)}: ${reason}`);
  }
  return CniError.fromJSON({ code: parsed.code, msg: parsed.msg ?? '', ...(parsed.details ? { details: parsed.details } : {}) });
}

const textFileBusyRetries = 5;

/**
 * The default {@link DelegateRunner}: starts the executable with the invocation's environment
 * and stdin, as upstream's `RawExec` does (including its retry while the file is being written,
 * `ETXTBSY`). The delegate's stderr is passed to the caller's stderr when it succeeds.
 */
export async function execDelegate(invocation: DelegateInvocation): Promise<Uint8Array> {
  // Loaded here, not at the top: most verbs of most plugins never start a process.
  const { spawn } = await import('node:child_process');
  for (let attempt = 0; ; attempt++) {
    const outcome = await new Promise<{ stdout: Buffer; stderr: Buffer; reason?: string; busy?: boolean }>((resolve) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const child = spawn(invocation.pluginPath, [], { env: invocation.env, stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A delegate that exits without reading stdin closes the pipe under us: not our error.
      child.stdin.on('error', () => {});
      child.on('error', (error: NodeJS.ErrnoException) =>
        resolve({
          stdout: Buffer.concat(stdout),
          stderr: Buffer.concat(stderr),
          reason: `fork/exec ${invocation.pluginPath}: ${error.message}`,
          busy: error.code === 'ETXTBSY',
        }),
      );
      child.on('close', (code, signal) => {
        const reason = code === 0 ? undefined : signal ? `signal: ${signal}` : `exit status ${code}`;
        resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), ...(reason ? { reason } : {}) });
      });
      child.stdin.end(invocation.stdin);
    });
    if (outcome.busy && attempt < textFileBusyRetries) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (outcome.reason !== undefined) throw delegateError(outcome.reason, outcome.stdout, outcome.stderr);
    if (outcome.stderr.length > 0) invocation.stderr.write(outcome.stderr.toString('utf8'));
    return outcome.stdout;
  }
}
