// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { containersConf, defaultNetwork, machineUlimits, podmanDirs, storageConf } from './config.ts';

const LIMITS = [
  'Limit                     Soft Limit           Hard Limit           Units     ',
  'Max processes             96365                96365                processes ',
  'Max open files            1024                 20000                files     ',
  '',
].join('\n');

describe('machineUlimits', () => {
  it("takes the hard limits, nproc capped at pid_max, where conmon's is", () => {
    expect(machineUlimits(LIMITS, 32768)).toEqual({ nofile: 20000, nproc: 32768 });
    expect(machineUlimits(LIMITS, 4194304)).toEqual({ nofile: 20000, nproc: 96365 });
  });

  it('reads unlimited as no limit, and names a missing line', () => {
    expect(machineUlimits(LIMITS.replace('96365                96365', 'unlimited            unlimited'), 32768).nproc).toBe(32768);
    expect(() => machineUlimits('', 32768)).toThrow('no "Max open files" line in /proc/self/limits');
  });
});

describe('containersConf', () => {
  const dirs = podmanDirs('/tmp/x');
  const text = containersConf({
    dirs,
    pluginDirs: ['/opt/cni bin'],
    ulimits: { nofile: 20000, nproc: 32768 },
  });

  it('selects the CNI backend on the given plugin folders, runc and cgroupfs', () => {
    expect(text).toContain('network_backend = "cni"\ncni_plugin_dirs = ["/opt/cni bin"]\nnetwork_config_dir = "/tmp/x/net.d"');
    expect(text).toContain('runtime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"');
    expect(text).toContain('default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]');
  });

  it('keeps every folder podman writes under the base folder', () => {
    const paths = [...text.matchAll(/"(\/[^"]*)"/g)].map((match) => match[1]!).filter((path) => path !== '/opt/cni bin' && !path.startsWith('/usr'));
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) expect(path.startsWith('/tmp/x/')).toBe(true);
    expect(storageConf(dirs, 'vfs')).toBe('[storage]\ndriver = "vfs"\ngraphroot = "/tmp/x/storage"\nrunroot = "/tmp/x/runroot"\n');
  });
});

describe('defaultNetwork', () => {
  it("is podman's default network with the plugins' folders and log set", () => {
    const conf = defaultNetwork({ ipamDataDir: '/d/ipam', tuningDataDir: '/d/tuning', logFile: '/d/log' });
    const plugins = conf['plugins'] as Record<string, unknown>[];
    expect(plugins.map((plugin) => plugin['type'])).toEqual(['bridge', 'portmap', 'firewall', 'tuning']);
    expect(plugins.every((plugin) => plugin['logFile'] === '/d/log')).toBe(true);
    expect(plugins[0]).toMatchObject({ bridge: 'cni-podman0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', dataDir: '/d/ipam' } });
    expect(plugins[1]).toMatchObject({ capabilities: { portMappings: true } });
    expect(plugins[3]).toMatchObject({ dataDir: '/d/tuning' });
    expect(defaultNetwork({ ipamDataDir: '/a', tuningDataDir: '/b' })['plugins']).not.toContainEqual(expect.objectContaining({ logFile: expect.anything() }));
  });
});
