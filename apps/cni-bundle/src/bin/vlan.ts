// SPDX-License-Identifier: Apache-2.0
// The `vlan` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { vlan } from '@cni/plugin-vlan';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(vlan, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
