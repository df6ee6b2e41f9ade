// SPDX-License-Identifier: Apache-2.0
// The `ptp` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { ptp } from '@cni/plugin-ptp';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(ptp, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
