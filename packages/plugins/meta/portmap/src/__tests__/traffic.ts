// SPDX-License-Identifier: Apache-2.0
// Test helpers (not exported by the package): a TCP and UDP server in a namespace and a client.
import { execFile, spawn } from 'node:child_process';
import { onTestFinished } from 'vitest';

/** A namespace by name, or anything with a name (a testkit namespace). */
type NetnsRef = string | { readonly name: string };
const netnsName = (ns: NetnsRef) => (typeof ns === 'string' ? ns : ns.name);

const SERVER = `
const net = require('node:net');
const dgram = require('node:dgram');
const [tcpPort, udpPort] = process.argv.slice(1).map(Number);
let ready = 0;
const up = () => { if (++ready === 3) process.stdout.write('ready\\n'); };
net.createServer((socket) => socket.end('tcp from ' + socket.remoteAddress.replace(/^::ffff:/, ''))).listen(tcpPort, '::', up);
for (const type of ['udp4', 'udp6']) {
  const udp = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  udp.on('message', (message, rinfo) => udp.send('udp from ' + rinfo.address, rinfo.port, rinfo.address));
  udp.bind(udpPort, type === 'udp4' ? '0.0.0.0' : '::', up);
}
`;

const CLIENT = `
const net = require('node:net');
const dgram = require('node:dgram');
const [protocol, host, port] = process.argv.slice(1);
setTimeout(() => { process.stdout.write('timeout'); process.exit(2); }, 3000).unref();
if (protocol === 'tcp') {
  let text = '';
  net.connect({ host, port: Number(port) }).on('data', (chunk) => (text += chunk)).on('end', () => process.stdout.write(text)).on('error', (e) => { process.stdout.write('error ' + e.code); process.exit(1); });
} else {
  const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (message) => { process.stdout.write(String(message)); process.exit(0); });
  udp.send('ping', Number(port), host);
  setInterval(() => udp.send('ping', Number(port), host), 300).unref();
}
`;

/** Start the echo server in `ns` (TCP on `tcpPort`, UDP on `udpPort`, both families); stopped when the test ends. */
export async function startServer(ns: NetnsRef, tcpPort: number, udpPort: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', netnsName(ns), process.execPath, '-e', SERVER, String(tcpPort), String(udpPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk));
    child.stdout.on('data', (chunk: Buffer) => {
      if (String(chunk).includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${errors}`)));
  });
}

/** Connect from `ns` to `host:port` and return what the server answered, or `timeout`/`error ...`. */
export function request(ns: NetnsRef, protocol: 'tcp' | 'udp', host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', netnsName(ns), process.execPath, '-e', CLIENT, protocol, host, String(port)], { timeout: 10_000 }, (_error, stdout) =>
      resolve(String(stdout)),
    );
  });
}
