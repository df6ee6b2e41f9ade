// SPDX-License-Identifier: Apache-2.0
// The `multinet` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { multinet } from '@cni/multinet';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(multinet, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
