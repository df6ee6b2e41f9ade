// SPDX-License-Identifier: Apache-2.0
export { ptp } from './ptp.ts';
export { loadConf, IP_MASQ_BACKENDS } from './net-conf.ts';
export type { PtpNetConf } from './net-conf.ts';
