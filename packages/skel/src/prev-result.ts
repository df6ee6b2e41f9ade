// SPDX-License-Identifier: Apache-2.0
import {
  CNI_ERROR_CODES,
  CniError,
  toCurrentResult,
  type GcAttachment,
  type InterfaceV100,
  type NetConf,
  type Result,
  type ResultV100,
} from '@cni/spec';

/** The one wording and code of a chained plugin called without prevResult (upstream's, code 7). */
export const PREV_RESULT_MISSING = 'required prevResult missing';

/** The request's prevResult, or code 7 `required prevResult missing` (a chained plugin called alone). */
export function requirePrevResult(request: { prevResult?: Result | undefined }): Result {
  if (!request.prevResult) throw new CniError(CNI_ERROR_CODES.INVALID_NETWORK_CONFIG, PREV_RESULT_MISSING);
  return request.prevResult;
}

/**
 * The prevResult of a CHECK in the 1.x form and its interface named CNI_IFNAME in CNI_NETNS, as
 * upstream's CHECKs find it: code 7 when prevResult is missing, a plain error (999) naming the
 * interface when prevResult has no such interface.
 */
export function requirePrevResultInterface(
  request: { prevResult?: Result | undefined; ifName: string; netns: string },
  plugin: string,
): { result: ResultV100; iface: InterfaceV100 } {
  const result = toCurrentResult(requirePrevResult(request));
  const iface = (result.interfaces ?? []).find((candidate) => candidate.name === request.ifName && candidate.sandbox === request.netns);
  if (!iface) {
    throw new Error(`${plugin}: no interface "${request.ifName}" with sandbox "${request.netns}" in prevResult`);
  }
  return { result, iface };
}

/** The attachments GC must keep: `cni.dev/valid-attachments`, or its older alias `cni.dev/attachments`. */
export function validAttachments(conf: NetConf): GcAttachment[] {
  const list = conf['cni.dev/valid-attachments'] ?? conf['cni.dev/attachments'] ?? [];
  return Array.isArray(list) ? list : [];
}
