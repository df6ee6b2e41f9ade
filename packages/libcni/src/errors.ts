// SPDX-License-Identifier: Apache-2.0
import { CniError } from '@cni/spec';

const marker = Symbol.for('cni.libcni.error');

/** Options of {@link LibcniError}. */
export interface LibcniErrorOptions {
  /** The CNI error code behind this error, when a plugin or a spec rule gave one. */
  code?: number | undefined;
  /** The error this one wraps. */
  cause?: unknown;
}

/**
 * The root of the errors @cni/libcni throws. `code` carries the CNI error code of the plugin
 * error (or the spec rule) behind it, so a runtime can branch on it after the message has been
 * wrapped (`plugin type="bridge" failed (add): ...`); it is undefined for errors of the runtime
 * side itself (a file that does not parse, a plugin not found).
 */
export class LibcniError extends Error {
  /** @internal Marks LibcniError across copies of this package. */
  readonly [marker] = true as const;
  override readonly name: string = 'LibcniError';
  /** The CNI error code behind this error, or undefined. */
  readonly code: number | undefined;

  constructor(message: string, options: LibcniErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
  }

  /** True for a LibcniError (or a subclass), also one made by another copy of this package. */
  static isInstance(value: unknown): value is LibcniError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/**
 * A configuration that could not be loaded: a file that does not parse, a key of the wrong
 * type, a list without plugins. Names the file (when there is one) and the key.
 */
export class ConfigError extends LibcniError {
  override readonly name: string = 'ConfigError';
  /** The file the configuration came from, if any. */
  readonly file: string | undefined;
  /** The offending key (`plugins[1].type`), if known. */
  readonly key: string | undefined;

  constructor(message: string, options: LibcniErrorOptions & { file?: string | undefined; key?: string | undefined } = {}) {
    super(message, options);
    this.file = options.file;
    this.key = options.key;
  }

  /** True for a ConfigError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is ConfigError {
    return LibcniError.isInstance(value) && (value.name === 'ConfigError' || value.name === 'NetworkNotFoundError');
  }
}

/**
 * No configuration of that name in the directory (upstream's `NotFoundError`), or no
 * configuration at all (`NoConfigsFoundError`): `noConfigs` tells which.
 */
export class NetworkNotFoundError extends ConfigError {
  override readonly name: string = 'NetworkNotFoundError';
  /** The directory searched. */
  readonly dir: string;
  /** The network asked for. */
  readonly network: string;
  /** True when the directory holds no configuration at all. */
  readonly noConfigs: boolean;

  constructor(dir: string, network: string, noConfigs: boolean) {
    super(noConfigs ? `no net configurations found in ${dir}` : `no net configuration with name "${network}" in ${dir}`);
    this.dir = dir;
    this.network = network;
    this.noConfigs = noConfigs;
  }

  /** True for a NetworkNotFoundError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is NetworkNotFoundError {
    return LibcniError.isInstance(value) && value.name === 'NetworkNotFoundError';
  }
}

/** The verbs libcni runs, as they appear in its error texts (`failed (add)`). */
export type PluginAction = 'add' | 'delete' | 'check' | 'gc' | 'status';

/**
 * A plugin of a chain failed: `plugin type="bridge" name="x" failed (add): <plugin's error>`,
 * upstream's text. `code` is the plugin's CNI error code; `pluginError` the error itself.
 */
export class PluginError extends LibcniError {
  override readonly name: string = 'PluginError';
  /** The plugin's `type`. */
  readonly pluginType: string;
  /** The plugin object's own `name` key, rarely set. */
  readonly pluginName: string | undefined;
  /** What was running. */
  readonly action: PluginAction;
  /** The error the plugin (or the runtime, for a plugin it could not run) reported. */
  readonly pluginError: Error;

  constructor(pluginType: string, pluginName: string | undefined, action: PluginAction, error: Error) {
    const description = `type=${JSON.stringify(pluginType)}${pluginName ? ` name=${JSON.stringify(pluginName)}` : ''}`;
    super(`plugin ${description} failed (${action}): ${errorText(error)}`, { code: errorCode(error), cause: error });
    this.pluginType = pluginType;
    this.pluginName = pluginName;
    this.action = action;
    this.pluginError = error;
  }

  /** True for a PluginError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is PluginError {
    return LibcniError.isInstance(value) && value.name === 'PluginError';
  }
}

/**
 * Several errors at once, as GC and validation collect them (upstream joins them with
 * `errors.Join`: one per line). `code` is the first code among them.
 */
export class MultiError extends LibcniError {
  override readonly name: string = 'MultiError';
  /** The errors, in the order they happened. */
  readonly errors: readonly Error[];

  constructor(errors: readonly Error[], message = errors.map(errorText).join('\n')) {
    super(message, { code: errors.map(errorCode).find((code) => code !== undefined) });
    this.errors = errors;
  }

  /** True for a MultiError, also one made by another copy of this package. */
  static override isInstance(value: unknown): value is MultiError {
    return LibcniError.isInstance(value) && value.name === 'MultiError';
  }
}

/** An error as upstream's Go prints it: a CNI error is `msg; details`. */
export function errorText(error: unknown): string {
  if (CniError.isInstance(error)) return error.details ? `${error.message}; ${error.details}` : error.message;
  return error instanceof Error ? error.message : String(error);
}

/** The CNI code behind an error, if it has one. */
export function errorCode(error: unknown): number | undefined {
  if (CniError.isInstance(error)) return error.code;
  if (LibcniError.isInstance(error)) return error.code;
  return undefined;
}
