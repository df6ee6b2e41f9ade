// SPDX-License-Identifier: Apache-2.0
// Imported first by the startup probe so that the ESM loader's own first-file cost is not counted.
export const baseline = true;
