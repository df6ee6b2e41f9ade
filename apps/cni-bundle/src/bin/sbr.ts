// SPDX-License-Identifier: Apache-2.0
// The `sbr` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { sbr } from '@cni/plugin-sbr';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(sbr, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
