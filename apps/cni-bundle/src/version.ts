// SPDX-License-Identifier: Apache-2.0
declare const __CNI_VERSION__: string | undefined;

/**
 * The bundle's version, printed in each plugin's about text (`CNI sample plugin v0.1.0`). The
 * build replaces `__CNI_VERSION__` with package.json's version; unbuilt (tests) it is undefined.
 */
export const BUNDLE_VERSION: string | undefined = typeof __CNI_VERSION__ === 'string' ? __CNI_VERSION__ : undefined;
