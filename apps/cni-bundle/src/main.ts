// SPDX-License-Identifier: Apache-2.0
// The dispatcher (main.cjs): the launcher starts the runtime on it with argv[0] as the runtime
// called the plugin, so the name of the link tells which plugin runs. It loads that plugin's file
// (from its V8 code cache) and nothing else: each plugin pays only for its own code.
import { existsSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadBundledFile } from './runtime/load.ts';

interface Entry {
  run(): Promise<number>;
}

const dir = dirname(process.argv[1]!);
const name = basename(process.argv0);
// `cni-bundle-worker`: a warm worker the resident daemon starts (src/daemon/worker.ts).
const file = join(dir, name === 'cni-bundle' ? 'tool.cjs' : name === 'cni-bundle-worker' ? 'worker.cjs' : join('plugins', `${name}.cjs`));
if (name.startsWith('.') || !existsSync(file)) {
  // Not a name the bundle ships (a link under another name): say so as a CNI error would.
  writeSync(1, `${JSON.stringify({ cniVersion: '1.1.0', code: 999, msg: `cni-bundle: no plugin named "${name}"` })}\n`);
  process.exitCode = 1;
} else {
  void (loadBundledFile(file) as Entry).run();
}
