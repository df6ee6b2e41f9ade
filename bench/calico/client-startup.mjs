#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// What an etcd client costs at the start of a process: Node alone, node:http + one range request
// on the JSON gateway, and (when ETCD3_DIR names a folder where `npm install etcd3` was run) the
// gRPC client etcd3 + one get. Each measured as a fresh process, interleaved, on a one-member etcd.
//   ETCD3_DIR=/tmp/etcd3probe node bench/calico/client-startup.mjs [node-binary]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const node = process.argv[2] ?? process.execPath;
const dir = mkdtempSync(join(tmpdir(), 'bench-etcd-client-'));
const port = 20000 + Math.floor(Math.random() * 20000);
const etcd = spawn('etcd', ['--data-dir', join(dir, 'data'), '--listen-client-urls', `http://127.0.0.1:${port}`, '--advertise-client-urls', `http://127.0.0.1:${port}`, '--listen-peer-urls', `http://127.0.0.1:${port + 1}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${port + 1}`, '--initial-cluster', `default=http://127.0.0.1:${port + 1}`, '--log-level', 'error', '--logger', 'zap'], { stdio: 'ignore' });
try {
  const scripts = {
    'node alone': '',
    'node:http + range': `const http=require('node:http');const a=new http.Agent({keepAlive:true});const b=JSON.stringify({key:Buffer.from('/calico/ipam/v2/config').toString('base64')});const q=http.request({agent:a,method:'POST',host:'127.0.0.1',port:${port},path:'/v3/kv/range',headers:{'content-length':Buffer.byteLength(b)}},(r)=>{r.resume();r.on('end',()=>a.destroy())});q.on('error',(e)=>{console.error(e.message);process.exit(1)});q.end(b);`,
  };
  if (process.env.ETCD3_DIR) scripts['etcd3 (gRPC) + get'] = `const {Etcd3}=require(${JSON.stringify(join(process.env.ETCD3_DIR, 'node_modules/etcd3'))});const c=new Etcd3({hosts:'127.0.0.1:${port}'});c.get('/calico/ipam/v2/config').string().then(()=>c.close(),(e)=>{console.error(e.message);process.exit(1)});`;
  for (const [name, text] of Object.entries(scripts)) writeFileSync(join(dir, `${name.replace(/\W+/g, '_')}.cjs`), text);
  for (let i = 0; i < 100; i++) {
    const r = spawnSync(node, [join(dir, 'node_http_range.cjs')], { encoding: 'utf8' });
    if (r.status === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const times = Object.fromEntries(Object.keys(scripts).map((k) => [k, []]));
  for (let i = 0; i < 20; i++) {
    for (const name of Object.keys(scripts)) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(node, [join(dir, `${name.replace(/\W+/g, '_')}.cjs`)], { env: { PATH: '/usr/bin:/bin' } });
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      times[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  const base = times['node alone'].sort((a, b) => a - b)[10];
  for (const [name, list] of Object.entries(times)) {
    list.sort((a, b) => a - b);
    console.log(`${name.padEnd(22)} median ${list[10].toFixed(1)} ms  (+${(list[10] - base).toFixed(1)} ms over node alone)`);
  }
} finally {
  etcd.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
