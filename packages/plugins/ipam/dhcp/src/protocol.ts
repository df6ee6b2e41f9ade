// SPDX-License-Identifier: Apache-2.0
import { connect } from 'node:net';
import { lstatSync } from 'node:fs';
import { DaemonUnreachableError, DhcpError, errorText } from './errors.ts';

/** The protocol's version tag, in every request and response. */
export const PROTOCOL_VERSION = 1;
/** Requests and responses are one line of JSON; a line longer than this is refused. */
export const MAX_LINE = 1 << 20;

/** The verbs the daemon serves. */
export type DaemonVerb = 'ADD' | 'DEL' | 'CHECK' | 'STATUS';

/** A request from the plugin: the CNI call as the plugin received it. */
export interface DaemonRequest {
  readonly cniDhcp: typeof PROTOCOL_VERSION;
  readonly verb: DaemonVerb;
  readonly containerId: string;
  /** CNI_NETNS, absolute. */
  readonly netns: string;
  readonly ifName: string;
  /** CNI_ARGS as key/value pairs. */
  readonly args: Readonly<Record<string, string>>;
  /** The network configuration as the plugin received it. */
  readonly conf: Readonly<Record<string, unknown>>;
}

/** The daemon's answer: a result (ADD), nothing (DEL, CHECK, STATUS) or a CNI error. */
export type DaemonResponse =
  | { readonly cniDhcp: typeof PROTOCOL_VERSION; readonly ok: true; readonly result?: unknown }
  | { readonly cniDhcp: typeof PROTOCOL_VERSION; readonly ok: false; readonly error: { code: number; msg: string; details?: string } };

/** Parse one request line; throws DhcpError code 6 on anything that is not one. */
export function parseRequest(line: string): DaemonRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new DhcpError(`malformed request: ${errorText(error)}`, { code: 6 });
  }
  const request = value as Partial<DaemonRequest> | null;
  if (typeof request !== 'object' || request === null || request.cniDhcp !== PROTOCOL_VERSION) {
    throw new DhcpError(`unsupported request: expected {"cniDhcp":${PROTOCOL_VERSION},...}`, { code: 6 });
  }
  if (!['ADD', 'DEL', 'CHECK', 'STATUS'].includes(request.verb as string)) throw new DhcpError(`unknown verb ${JSON.stringify(request.verb)}`, { code: 6 });
  const text = (key: 'containerId' | 'netns' | 'ifName'): string => {
    const field = request[key];
    if (field !== undefined && typeof field !== 'string') throw new DhcpError(`request field "${key}" must be a string`, { code: 6 });
    return field ?? '';
  };
  const args = request.args ?? {};
  const conf = request.conf ?? {};
  if (typeof args !== 'object' || typeof conf !== 'object') throw new DhcpError('request fields "args" and "conf" must be objects', { code: 6 });
  return { cniDhcp: PROTOCOL_VERSION, verb: request.verb!, containerId: text('containerId'), netns: text('netns'), ifName: text('ifName'), args, conf };
}

/** Options of {@link callDaemon}. */
export interface CallOptions {
  /** Give up after this long (the daemon may be retrying DHCP for a while). Default 5 minutes. */
  timeoutMs?: number;
}

function unreachable(socketPath: string, reason: string, cause?: unknown): DaemonUnreachableError {
  return new DaemonUnreachableError(socketPath, `error dialing DHCP daemon on "${socketPath}": ${reason}`, cause === undefined ? {} : { cause });
}

function dialError(socketPath: string, error: NodeJS.ErrnoException): DaemonUnreachableError {
  switch (error.code) {
    case 'ENOENT':
      return unreachable(socketPath, 'no such socket (is "dhcp daemon" running?)', error);
    case 'ECONNREFUSED': {
      let isSocket = true;
      try {
        isSocket = lstatSync(socketPath).isSocket();
      } catch {
        // the lstat only sharpens the message
      }
      return unreachable(socketPath, isSocket ? 'connection refused (is "dhcp daemon" running?)' : 'the path is not a socket', error);
    }
    case 'ENOTSOCK':
      return unreachable(socketPath, 'the path is not a socket', error);
    case 'EACCES':
      return unreachable(socketPath, 'permission denied', error);
    default:
      return unreachable(socketPath, errorText(error), error);
  }
}

/**
 * Send one request to the daemon and read its answer. A peer that answers in HTTP is
 * upstream's Go daemon (net/rpc over HTTP CONNECT, gob-encoded): the error says so.
 *
 * @throws DaemonUnreachableError when nothing speaking this protocol answers on the socket.
 */
export function callDaemon(socketPath: string, request: DaemonRequest, options: CallOptions = {}): Promise<DaemonResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: Error | undefined, response?: DaemonResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    const timeoutMs = options.timeoutMs ?? 300_000;
    const timer = setTimeout(() => finish(unreachable(socketPath, `no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    socket.on('error', (error: NodeJS.ErrnoException) => finish(dialError(socketPath, error)));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    const parse = (): void => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.startsWith('HTTP/')) {
        finish(
          unreachable(
            socketPath,
            'the daemon answered in HTTP: this is upstream\'s Go dhcp daemon (net/rpc with gob encoding), which this plugin does not speak; run "dhcp daemon" from this bundle on the socket instead',
          ),
        );
        return;
      }
      const newline = text.indexOf('\n');
      if (newline < 0) {
        finish(unreachable(socketPath, text === '' ? 'the daemon closed the connection without an answer' : 'the daemon sent an incomplete answer'));
        return;
      }
      let response: DaemonResponse;
      try {
        response = JSON.parse(text.slice(0, newline)) as DaemonResponse;
      } catch (error) {
        finish(unreachable(socketPath, `the daemon sent a malformed answer: ${errorText(error)}`));
        return;
      }
      if (typeof response !== 'object' || response === null || response.cniDhcp !== PROTOCOL_VERSION) {
        finish(unreachable(socketPath, 'the peer does not speak the cni-dhcp protocol'));
        return;
      }
      finish(undefined, response);
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_LINE) finish(unreachable(socketPath, 'the daemon sent an answer over 1 MiB'));
      else if (chunk.includes(10) || chunk.subarray(0, 5).toString() === 'HTTP/') parse();
    });
    socket.on('end', parse);
  });
}
