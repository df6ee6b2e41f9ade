// SPDX-License-Identifier: Apache-2.0
// The demo's tiny HTTP server (run in a pod) and client (run where the port mapping is tried).
// Usage: node http.mjs serve <port> <text>   |   node http.mjs get <url>
import { createServer, get } from 'node:http';

const [mode, arg, text] = process.argv.slice(2);
if (mode === 'serve') {
  createServer((_req, res) => res.end(`${text ?? 'hello'}\n`)).listen(Number(arg), '0.0.0.0');
} else if (mode === 'get') {
  // Retries: the server starts beside the client, so its first connection may come before listen.
  const deadline = Date.now() + 5000;
  const attempt = () => {
    const req = get(arg, { timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        process.stdout.write(body);
        process.exit(res.statusCode === 200 ? 0 : 1);
      });
    });
    const retry = (error) => {
      req.destroy();
      if (Date.now() > deadline) {
        console.error(`failed to get "${arg}": ${error.message}`);
        process.exit(1);
      }
      setTimeout(attempt, 100);
    };
    req.on('timeout', () => retry(new Error('timed out')));
    req.on('error', retry);
  };
  attempt();
} else {
  console.error('usage: http.mjs serve <port> <text> | get <url>');
  process.exit(2);
}
