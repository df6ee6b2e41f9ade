// SPDX-License-Identifier: Apache-2.0
// The `dummy` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { dummy } from '@cni/plugin-dummy';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(dummy, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
