// SPDX-License-Identifier: Apache-2.0
// The `bandwidth` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { bandwidth } from '@cni/plugin-bandwidth';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(bandwidth, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
