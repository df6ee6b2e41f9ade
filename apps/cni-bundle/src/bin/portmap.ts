// SPDX-License-Identifier: Apache-2.0
// The `portmap` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { portmap } from '@cni/plugin-portmap';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(portmap, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
