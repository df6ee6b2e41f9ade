// SPDX-License-Identifier: Apache-2.0
// The `vrf` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { vrf } from '@cni/plugin-vrf';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(vrf, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
