// SPDX-License-Identifier: Apache-2.0
// TCP helpers for the kernel tests, run inside test namespaces with `ip netns exec`:
//   node tcp.mjs serve <address> <port> <text>       answers every connection with <text>; prints "listening"
//   node tcp.mjs get <address> <port>                prints what the server answered
//   node tcp.mjs recv <address> <port> <ms>          prints {"bitsPerSecond"} measured from the first byte over <ms>
//   node tcp.mjs send <address> <port>               writes as fast as the socket takes it until the peer closes
import { createConnection, createServer } from 'node:net';

const [mode, address, port, arg] = process.argv.slice(2);
if (mode === 'serve') {
  createServer((socket) => socket.end(arg)).listen(Number(port), address, () => process.stdout.write('listening\n'));
} else if (mode === 'get') {
  const socket = createConnection({ host: address, port: Number(port), timeout: 3000 });
  let text = '';
  socket.on('data', (chunk) => (text += chunk));
  socket.on('end', () => process.stdout.write(text));
  socket.on('timeout', () => process.exit(2));
  socket.on('error', (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
} else if (mode === 'recv') {
  createServer((socket) => {
    let bytes = 0;
    let start = 0;
    socket.on('data', (chunk) => {
      if (start === 0) {
        start = performance.now();
        setTimeout(() => {
          process.stdout.write(`${JSON.stringify({ bitsPerSecond: (bytes * 8 * 1000) / (performance.now() - start) })}\n`);
          process.exit(0);
        }, Number(arg));
      }
      bytes += chunk.length;
    });
  }).listen(Number(port), address);
} else if (mode === 'send') {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const deadline = Date.now() + 5000;
  const connect = () => {
    let connected = false;
    const socket = createConnection({ host: address, port: Number(port) });
    const pump = () => {
      while (socket.write(chunk));
    };
    socket.on('connect', () => {
      connected = true;
      pump();
    });
    socket.on('drain', pump);
    socket.on('error', () => {
      if (!connected && Date.now() < deadline) setTimeout(connect, 50);
      else process.exit(0);
    });
    socket.on('close', () => connected && process.exit(0));
  };
  connect();
} else {
  process.stderr.write('usage: tcp.mjs serve|get|recv|send <address> <port> [arg]\n');
  process.exit(2);
}
