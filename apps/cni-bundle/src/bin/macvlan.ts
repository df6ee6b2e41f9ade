// SPDX-License-Identifier: Apache-2.0
// The `macvlan` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { macvlan } from '@cni/plugin-macvlan';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(macvlan, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
