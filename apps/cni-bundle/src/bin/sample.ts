// SPDX-License-Identifier: Apache-2.0
// The `sample` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { sample } from '@cni/plugin-sample';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(sample, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
