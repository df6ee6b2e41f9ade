#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// `cni-bundle-build`: the bundler's command. Exit status 0, 1 when the bundle cannot be built,
// 2 for a usage error.
import { parseArgs } from 'node:util';
import { buildBundle, BundleError, type BundleArch } from './build.ts';
import { ownPlugins } from './registry.ts';

const usage = `usage: cni-bundle-build [options] [<plugin>...]

Writes <out>/bin (every plugin a link to one launcher, beside the Node runtime it starts) and
<out>/<name>-<version>-linux-<arch>.tar.gz. Install either with: <bin>/cni-bundle install --dir /opt/cni/bin

  <plugin>                 your plugin: an installed npm package or a folder (./my-plugin),
                           optionally <plugin>=<executable name>. The module exports a definePlugin
                           value as "plugin" or as its default export.
  --ours <all|none|a,b>    the project's plugins to include (default: all)
  --out <folder>           where to write (default: dist)
  --name <name>            the tarball's name (default: cni-bundle)
  --version <version>      the bundle's version (default: package.json's here, else 0.0.0)
  --arch <x64|arm64>       the target (default: this machine's)
  --condition <name>       an extra export condition when resolving modules (repeatable)
  --cache-dir <folder>     downloaded runtimes (default: $CNI_BUNDLE_CACHE or ~/.cache/cni-bundle)
  --list-ours              print the project's plugins and exit
`;

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ours: { type: 'string' },
        out: { type: 'string' },
        name: { type: 'string' },
        version: { type: 'string' },
        arch: { type: 'string' },
        condition: { type: 'string', multiple: true },
        'cache-dir': { type: 'string' },
        'list-ours': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`cni-bundle-build: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values['list-ours']) {
    process.stdout.write(`${Object.keys(ownPlugins).join('\n')}\n`);
    return 0;
  }
  if (values.arch !== undefined && values.arch !== 'x64' && values.arch !== 'arm64') {
    process.stderr.write(`cni-bundle-build: --arch "${values.arch}": expected x64 or arm64\n`);
    return 2;
  }
  const ours = values.ours === undefined || values.ours === 'all' ? 'all' : values.ours === 'none' ? 'none' : values.ours.split(',').filter(Boolean);
  try {
    const report = await buildBundle({
      plugins: positionals,
      ours,
      ...(values.out === undefined ? {} : { outDir: values.out }),
      ...(values.name === undefined ? {} : { name: values.name }),
      ...(values.version === undefined ? {} : { version: values.version }),
      ...(values.arch === undefined ? {} : { arch: values.arch as BundleArch }),
      ...(values.condition === undefined ? {} : { conditions: values.condition }),
      ...(values['cache-dir'] === undefined ? {} : { cacheDir: values['cache-dir'] }),
      log: (line) => process.stdout.write(`${line}\n`),
    });
    process.stdout.write(`${report.plugins.length} plugins in ${report.bin}: ${report.plugins.join(' ')}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    process.stderr.write(`cni-bundle-build: ${error.message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
