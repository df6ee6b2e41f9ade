// SPDX-License-Identifier: Apache-2.0
// The `host-device` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { hostDevice } from '@cni/plugin-host-device';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(hostDevice, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
