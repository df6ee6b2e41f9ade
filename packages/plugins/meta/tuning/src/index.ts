// SPDX-License-Identifier: Apache-2.0
export { tuning } from './tuning.ts';
export { loadConf, parseMac, readAllowlist, ALLOWLIST_ENV, DEFAULT_ALLOWLIST, DEFAULT_DATA_DIR } from './net-conf.ts';
export type { TuningNetConf, LoadConfOptions } from './net-conf.ts';
export type { Backup } from './backup.ts';
