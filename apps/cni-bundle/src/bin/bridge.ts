// SPDX-License-Identifier: Apache-2.0
// The `bridge` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { bridge } from '@cni/plugin-bridge';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(bridge, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
