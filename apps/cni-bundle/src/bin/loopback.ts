// SPDX-License-Identifier: Apache-2.0
// The `loopback` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { loopback } from '@cni/plugin-loopback';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(loopback, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
