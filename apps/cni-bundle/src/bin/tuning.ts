// SPDX-License-Identifier: Apache-2.0
// The `tuning` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { tuning } from '@cni/plugin-tuning';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(tuning, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
