// SPDX-License-Identifier: Apache-2.0
// The `host-local` executable: upstream's three-line main. Imports only its own plugin.
import { runPlugin } from '@cni/skel';
import { hostLocal } from '@cni/ipam-hostlocal';
import { BUNDLE_VERSION } from '../version.ts';

void runPlugin(hostLocal, undefined, BUNDLE_VERSION === undefined ? {} : { version: BUNDLE_VERSION });
