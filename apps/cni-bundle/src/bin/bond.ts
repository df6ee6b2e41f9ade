// SPDX-License-Identifier: Apache-2.0
// The `bond` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { bond } from '@cni/plugin-bond';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(bond, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
