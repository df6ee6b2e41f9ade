// SPDX-License-Identifier: Apache-2.0
import type { PluginIo } from '@cni/skel';

/** What a plugin run in-process printed, and how it ended. */
export interface Captured {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Run a bundled plugin in this process with the environment and stdin an executable would get,
 * collecting what it would have printed. The delegate's own delegates go through `delegateRunner`.
 */
export async function runCaptured(
  run: (io: PluginIo) => Promise<number>,
  env: Readonly<Record<string, string>>,
  stdin: Uint8Array,
): Promise<Captured> {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let exitCode: number | undefined;
  const returned = await run({
    env: { ...env },
    stdin,
    stdout: { write: (text: string) => stdout.push(Buffer.from(text, 'utf8')) },
    stderr: { write: (text: string) => stderr.push(Buffer.from(text, 'utf8')) },
    exit: (code) => {
      exitCode ??= code;
    },
  });
  return { code: exitCode ?? returned, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
}
