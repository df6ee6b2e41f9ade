// SPDX-License-Identifier: Apache-2.0
import { isAbsolute, resolve } from 'node:path';
import { type AddRequest, type CheckRequest, type DelRequest, type StatusRequest, definePlugin } from '@cni/skel';
import { ALL_SPEC_VERSIONS, CNI_ERROR_CODES, CniError, type Result } from '@cni/spec';
import { DEFAULT_SOCKET_PATH, loadDhcpConfig } from './config.ts';
import { DaemonUnreachableError, DhcpError, errorText } from './errors.ts';
import { type DaemonVerb, PROTOCOL_VERSION, callDaemon } from './protocol.ts';

type Request = AddRequest | DelRequest | CheckRequest | StatusRequest;

function toCniError(error: unknown, verb: DaemonVerb): CniError {
  if (CniError.isInstance(error)) return error;
  if (DaemonUnreachableError.isInstance(error) && verb === 'STATUS') return new CniError(CNI_ERROR_CODES.PLUGIN_NOT_AVAILABLE, error.message);
  if (DhcpError.isInstance(error)) return new CniError(error.code, error.message);
  return new CniError(CNI_ERROR_CODES.INTERNAL, errorText(error));
}

async function call(request: Request, verb: DaemonVerb): Promise<unknown> {
  const conf = request.conf as unknown as Record<string, unknown>;
  let socketPath = DEFAULT_SOCKET_PATH;
  try {
    // Refuse a bad configuration here, before any lease is asked for.
    const config = loadDhcpConfig({ conf, args: request.args, containerId: request.containerId, ifName: request.ifName });
    socketPath = config.daemonSocketPath;
    const netns = request.netns === '' || isAbsolute(request.netns) ? request.netns : resolve(request.netns);
    const response = await callDaemon(socketPath, {
      cniDhcp: PROTOCOL_VERSION,
      verb,
      containerId: request.containerId,
      netns,
      ifName: request.ifName,
      args: request.args,
      conf,
    });
    if (!response.ok) throw new CniError(response.error.code, response.error.msg, response.error.details === undefined ? {} : { details: response.error.details });
    return response.result;
  } catch (error) {
    throw toCniError(error, verb);
  }
}

/**
 * The dhcp IPAM plugin: asks the DHCP daemon (`dhcp daemon`) on `ipam.daemonSocketPath` for
 * a lease inside the container's namespace (ADD), checks it is still held (CHECK), releases it
 * (DEL), and fails STATUS with code 50 while the daemon is unreachable. The plugin itself
 * loads nothing but the socket client: the daemon does the DHCP.
 *
 * @example
 * ```ts
 * import { runPlugin } from '@cni/skel';
 * import { dhcp } from '@cni/ipam-dhcp';
 * process.exitCode = await runPlugin(dhcp);
 * ```
 */
export const dhcp = definePlugin({
  name: 'dhcp',
  versions: ALL_SPEC_VERSIONS,
  add: async (request) => (await call(request, 'ADD')) as Result,
  del: async (request) => {
    await call(request, 'DEL');
  },
  check: async (request) => {
    await call(request, 'CHECK');
  },
  status: async (request) => {
    await call(request, 'STATUS');
  },
});
