// SPDX-License-Identifier: Apache-2.0
import type { CheckRequest } from '@cni/skel';
import { toCurrentResult, type InterfaceV100, type ResultV100 } from '@cni/spec';

/**
 * The prevResult of a CHECK in the 1.x form and its interface named CNI_IFNAME in CNI_NETNS, as
 * upstream's CHECKs find it; the errors say which of the two is missing.
 */
export function containerInterface(request: CheckRequest, plugin: string): { result: ResultV100; iface: InterfaceV100 } {
  const prevResult = request.prevResult;
  if (!prevResult) throw new Error(`${plugin}: required prevResult missing`);
  const result = toCurrentResult(prevResult);
  const iface = (result.interfaces ?? []).find((candidate) => candidate.name === request.ifName && candidate.sandbox === request.netns);
  if (!iface) {
    throw new Error(`${plugin}: no interface "${request.ifName}" with sandbox "${request.netns}" in prevResult`);
  }
  return { result, iface };
}
