// SPDX-License-Identifier: Apache-2.0
// The `firewall` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { firewall } from '@cni/plugin-firewall';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(firewall, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
