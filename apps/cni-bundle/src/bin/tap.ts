// SPDX-License-Identifier: Apache-2.0
// The `tap` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { tap } from '@cni/plugin-tap';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(tap, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
