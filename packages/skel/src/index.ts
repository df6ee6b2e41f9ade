// SPDX-License-Identifier: Apache-2.0
export { definePlugin } from './plugin.ts';
export type {
  AddRequest,
  CheckRequest,
  CniPlugin,
  Delegate,
  DelegateConfig,
  DelegateOptions,
  DelRequest,
  GcRequest,
  PluginDefinition,
  PluginRequest,
  StatusRequest,
} from './plugin.ts';

export { runPlugin, processIo } from './run-plugin.ts';
export type { PluginIo, PluginStdin, RunOptions } from './run-plugin.ts';

export { readCniEnvironment, validateContainerId, validateInterfaceName, isNetnsOverride, splitCniPath } from './env.ts';
export type { CniCommand, CniEnvironment, ConfigCommand, PluginEnv } from './env.ts';

export { loadArgs, parseCniArgs, argString, argBool } from './args.ts';
export type { ArgParser, ArgsSchema, LoadedArgs } from './args.ts';

export { findInPath, execDelegate, delegateError } from './delegate.ts';
export type { DelegateInvocation, DelegateRunner, TextSink } from './delegate.ts';

export { LOG_FILE_ENV, LOG_FILE_KEY } from './log.ts';
export type { PluginLog } from './log.ts';

export { UndoStack } from './undo.ts';
export type { UndoStep } from './undo.ts';

export { PREV_RESULT_MISSING, requirePrevResult, requirePrevResultInterface, validAttachments } from './prev-result.ts';
