// SPDX-License-Identifier: Apache-2.0
// The `static` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { staticIpam } from '@cni/ipam-static';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(staticIpam, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
