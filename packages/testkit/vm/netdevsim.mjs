// SPDX-License-Identifier: Apache-2.0
// netdevsim for the VM tier: the kernel's simulated device implements every SR-IOV VF setting
// (mac, vlan with qos and 802.1ad, rates, spoofchk, trust, link state) and reports them in
// `ip -d -j link show`. Debian's cloud kernel does not ship it, so it is built here as an
// out-of-tree module from Debian's own linux-source-6.1 against the cloud kernel's headers
// (a few seconds), cached in .vm-cache/ by kernel version and source package version.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = '/usr/src/linux-source-6.1.tar.xz';

function installed(pkg) {
  const status = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8' });
  return status.stdout.includes('install ok installed') ? status.stdout.split(' ').at(-1) : undefined;
}

/**
 * The path of netdevsim.ko built for `version` and the names of the modules it depends on, or
 * undefined (with the reason logged) when it cannot be built on this machine.
 */
export function buildNetdevsim(version, cacheDir, log) {
  const packages = [`linux-headers-${version}`, 'linux-source-6.1'];
  const missing = packages.filter((pkg) => !installed(pkg));
  if (missing.length > 0) {
    log(`installing ${missing.join(' ')} (to build netdevsim)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    if (install.status !== 0) {
      log(`warning: failed to install ${missing.join(' ')}: no netdevsim in the VM`);
      return undefined;
    }
  }
  const cached = join(cacheDir, `netdevsim-${version}-${installed('linux-source-6.1')}.ko`);
  if (!existsSync(cached)) {
    const started = Date.now();
    const work = mkdtempSync(join(tmpdir(), 'cni-netdevsim-'));
    try {
      const untar = spawnSync('tar', ['-xJf', SOURCE, '-C', work, '--wildcards', '*/drivers/net/netdevsim'], { encoding: 'utf8' });
      if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
      const top = spawnSync('ls', [work], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
      const dir = join(work, top, 'drivers/net/netdevsim');
      const make = spawnSync('make', ['-C', `/usr/src/linux-headers-${version}`, `M=${dir}`, 'CONFIG_NETDEVSIM=m', 'modules'], { encoding: 'utf8' });
      if (make.status !== 0) throw new Error(`make: ${make.stdout.slice(-2000)}${make.stderr.slice(-2000)}`);
      copyFileSync(join(dir, 'netdevsim.ko'), `${cached}.tmp`);
      // Its debug info is 5 MB of the initramfs for nothing.
      spawnSync('strip', ['--strip-debug', `${cached}.tmp`]);
      renameSync(`${cached}.tmp`, cached);
      log(`built netdevsim.ko for ${version} in ${Date.now() - started}ms`);
    } catch (error) {
      log(`warning: failed to build netdevsim: ${error.message}`);
      return undefined;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const depends = spawnSync('modinfo', ['-F', 'depends', cached], { encoding: 'utf8' }).stdout.trim();
  return { path: cached, depends: depends === '' ? [] : depends.split(',') };
}
