// SPDX-License-Identifier: Apache-2.0
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plugins } from './plugins.ts';

const binDir = new URL('../dist/bin/', import.meta.url).pathname;

describe.each(Object.entries(plugins))('dist/bin/%s', (name, plugin) => {
  const file = join(binDir, name);

  it('is an executable file', () => {
    expect(statSync(file, { throwIfNoEntry: false })?.mode, `run \`pnpm build\` in apps/cni-bundle`).toBeDefined();
    expect(statSync(file).mode & 0o777).toBe(0o755);
  });

  it('answers VERSION with the versions its plugin lists, and prints its about text', () => {
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };
    const version = spawnSync(file, [], { env: { ...env, CNI_COMMAND: 'VERSION' }, encoding: 'utf8' });
    expect(version.status, version.stderr).toBe(0);
    expect(JSON.parse(version.stdout)).toEqual({ cniVersion: '1.1.0', supportedVersions: [...plugin.versions] });
    const about = spawnSync(file, [], { env, encoding: 'utf8' });
    expect(about.status).toBe(0);
    expect(about.stdout).toBe('');
    expect(about.stderr.split('\n')[0]).toMatch(new RegExp(`^CNI ${plugin.name} plugin v\\d+\\.\\d+\\.\\d+`));
  });
});
