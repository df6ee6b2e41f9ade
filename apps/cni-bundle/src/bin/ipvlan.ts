// SPDX-License-Identifier: Apache-2.0
// The `ipvlan` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { ipvlan } from '@cni/plugin-ipvlan';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(ipvlan, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
