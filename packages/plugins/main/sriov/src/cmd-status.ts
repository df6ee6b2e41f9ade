// SPDX-License-Identifier: Apache-2.0
import { accessSync, constants, existsSync, mkdirSync, readdirSync } from 'node:fs';
import type { GcRequest, StatusRequest } from '@cni/skel';
import { CNI_ERROR_CODES, CniError } from '@cni/spec';
import { DEFAULT_DATA_DIR } from './net-conf.ts';
import type { SriovOptions } from './options.ts';
import { releaseVf } from './release.ts';
import { DataDir } from './state.ts';

function dataDirOf(conf: Record<string, unknown>): string {
  const dir = conf['dataDir'];
  return typeof dir === 'string' && dir.startsWith('/') ? dir : DEFAULT_DATA_DIR;
}

function ipamTypeOf(conf: { ipam?: { type?: unknown } }): string {
  return typeof conf.ipam?.type === 'string' ? conf.ipam.type : '';
}

/**
 * STATUS: ready when the data folder can be written (ADD cannot keep its state otherwise: code
 * 50), then the IPAM plugin's STATUS.
 */
export async function cmdStatus(request: StatusRequest): Promise<void> {
  const dir = dataDirOf(request.conf as Record<string, unknown>);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, `the sriov data folder ${dir} is not writable: ${(error as Error).message}`, { cause: error });
  }
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
}

interface Attachment {
  containerID?: unknown;
  ifname?: unknown;
}

/**
 * GC, beyond sriov-cni: every attachment of this network (`name`) that ADD recorded and that is
 * not in `cni.dev/valid-attachments` is released as DEL would (VF back, settings restored, state
 * and allocation dropped); allocations whose namespace is gone are dropped. Then IPAM's GC.
 */
export async function cmdGc(request: GcRequest, options: SriovOptions = {}): Promise<void> {
  const conf = request.conf as Record<string, unknown> & { name: string };
  const data = new DataDir(dataDirOf(conf));
  const valid = (conf['cni.dev/valid-attachments'] ?? []) as Attachment[];
  const keep = new Set(Array.isArray(valid) ? valid.map((a) => `${String(a.containerID)}\0${String(a.ifname)}`) : []);
  const errors: string[] = [];
  for (const state of data.listStates()) {
    if (state.network !== conf.name || keep.has(`${state.containerId}\0${state.ifName}`)) continue;
    const unlock = await data.lock(state.deviceID);
    try {
      await releaseVf(state, data, options);
    } catch (error) {
      errors.push(`${state.containerId}/${state.ifName} (VF ${state.deviceID}): ${(error as Error).message}`);
    } finally {
      unlock();
    }
  }
  // Reading an allocation drops it when its namespace is gone.
  if (existsSync(`${data.dir}/pci`)) {
    for (const name of readdirSync(`${data.dir}/pci`)) if (!name.endsWith('.lock') && !name.includes('.tmp-')) data.allocation(name);
  }
  const type = ipamTypeOf(request.conf);
  if (type !== '') await request.delegate(type);
  if (errors.length > 0) throw new Error(`GC could not release: ${errors.join('; ')}`);
}
