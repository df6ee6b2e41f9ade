// SPDX-License-Identifier: Apache-2.0
export { main, EXIT, DEFAULT_NETCONFPATH, NETNS_RUN_DIR, parseCniArgs, netnsPath, containerIdFor, errorLine } from './main.ts';
export type { CliIo } from './main.ts';
export { summarizeResult } from './summary.ts';
export type { SummaryContext } from './summary.ts';
export { runNetnsCommand } from './netns.ts';
