// SPDX-License-Identifier: Apache-2.0
// A TCP sender and receiver for the traffic tests, run inside test namespaces with `ip netns exec`.
//   node tcp-rate.mjs recv <address> <port> <milliseconds>  prints {"bytes","ms","bitsPerSecond"} after
//        measuring from the first byte for <milliseconds>, then exits (which ends the sender).
//   node tcp-rate.mjs send <address> <port>                 writes as fast as the socket takes it.
import { createConnection, createServer } from 'node:net';

const [mode, address, port, duration] = process.argv.slice(2);
if (mode === 'recv') {
  const server = createServer((socket) => {
    let bytes = 0;
    let start = 0;
    socket.on('data', (chunk) => {
      if (start === 0) {
        start = performance.now();
        setTimeout(() => {
          const ms = performance.now() - start;
          process.stdout.write(`${JSON.stringify({ bytes, ms, bitsPerSecond: (bytes * 8 * 1000) / ms })}\n`);
          process.exit(0);
        }, Number(duration));
      }
      bytes += chunk.length;
    });
  });
  server.listen(Number(port), address, () => process.stderr.write('listening\n'));
} else if (mode === 'send') {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  // The receiver may not listen yet: retry a refused connection for up to 5 s.
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
    socket.on('close', () => {
      if (connected) process.exit(0);
    });
  };
  connect();
} else {
  process.stderr.write('usage: tcp-rate.mjs recv|send <address> <port> [milliseconds]\n');
  process.exit(2);
}
