// SPDX-License-Identifier: Apache-2.0
import { appendFileSync } from 'node:fs';

/** The environment variable that switches the debug log on: the path of a file to append to. */
export const LOG_FILE_ENV = 'CNI_LOG_FILE';

/** The configuration key that switches the debug log on, when the environment does not. */
export const LOG_FILE_KEY = 'logFile';

/**
 * The debug log of a plugin. Lines go to the file named by {@link LOG_FILE_ENV} or by the
 * configuration key {@link LOG_FILE_KEY} (the environment wins), never to stdout, which belongs
 * to the CNI protocol. Without either, every call is a no-op. Writing never throws.
 */
export interface PluginLog {
  /** True when lines go somewhere; lets a plugin skip building an expensive message. */
  readonly enabled: boolean;
  /** Append a line: `<time> <plugin>[<pid>] <command> <containerId>: <message> <fields as JSON>`. */
  debug(message: string, fields?: Record<string, unknown>): void;
}

/** The {@link PluginLog} skel hands to plugins, with the file set once the configuration is read. */
export class FileLog implements PluginLog {
  #file: string | undefined;
  #prefix: string;

  constructor(file: string | undefined, prefix: string) {
    this.#file = file === '' ? undefined : file;
    this.#prefix = prefix;
  }

  get enabled(): boolean {
    return this.#file !== undefined;
  }

  /** Use `file` unless a file is already set (the environment's wins over the config's). */
  fallBackTo(file: unknown): void {
    if (this.#file === undefined && typeof file === 'string' && file !== '') this.#file = file;
  }

  /** Put the command and container in every later line. */
  setPrefix(prefix: string): void {
    this.#prefix = prefix;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    if (this.#file === undefined) return;
    let line = `${new Date().toISOString()} ${this.#prefix}: ${message}`;
    if (fields !== undefined) {
      try {
        line += ` ${JSON.stringify(fields)}`;
      } catch {
        line += ' [fields not printable]';
      }
    }
    try {
      // Synchronous on purpose: a plugin may exit right after, and a debug line lost in a
      // crash is the line one needed.
      appendFileSync(this.#file, `${line}\n`, { mode: 0o600 });
    } catch {
      // A debug log must never change what the plugin answers.
    }
  }
}
