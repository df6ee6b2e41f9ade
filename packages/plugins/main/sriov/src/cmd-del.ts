// SPDX-License-Identifier: Apache-2.0
import type { DelRequest } from '@cni/skel';
import { DEFAULT_DATA_DIR } from './net-conf.ts';
import type { SriovOptions } from './options.ts';
import { releaseVf } from './release.ts';
import { DataDir } from './state.ts';

/**
 * DEL: release the lease, then undo exactly what ADD changed, from the state ADD saved. Reads the
 * configuration leniently (the VF may be gone, the config may have changed since ADD); a missing
 * state, namespace or VF is success, so DEL can always be repeated.
 */
export async function cmdDel(request: DelRequest, options: SriovOptions = {}): Promise<void> {
  const conf = request.conf as { ipam?: { type?: unknown }; dataDir?: unknown };
  const dataDir = typeof conf.dataDir === 'string' && conf.dataDir.startsWith('/') ? conf.dataDir : DEFAULT_DATA_DIR;
  const ipamType = typeof conf.ipam?.type === 'string' ? conf.ipam.type : '';
  if (ipamType !== '') await request.delegate(ipamType);
  const data = new DataDir(dataDir);
  const state = data.loadState(request.containerId, request.ifName);
  if (!state) return;
  const unlock = await data.lock(state.deviceID);
  try {
    await releaseVf(state, data, options);
  } finally {
    unlock();
  }
}
