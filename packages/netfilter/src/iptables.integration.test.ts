// SPDX-License-Identifier: Apache-2.0
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, parseIptablesSave, useTestNetns } from '@cni/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NetfilterCommandError } from './errors.ts';
import { Iptables, iptablesCommand, iptablesRestoreCommand } from './iptables.ts';
import { Nftables } from './nftables.ts';
import { createCommandRunner } from './runner.ts';

const isRoot = process.getuid?.() === 0;
const variants = (['legacy', 'nft'] as const).filter((variant) => existsSync(`/usr/sbin/iptables-${variant}`));

describe.skipIf(!isRoot).each(variants)('Iptables helpers (iptables-%s)', (variant) => {
  it('create, insert, append, list, delete and remove chains idempotently', async () => {
    const { host } = await useTestNetns({ container: false });
    const ipt = new Iptables(4, { runner: createCommandRunner({ prefix: ['ip', 'netns', 'exec', host.name] }), iptablesVariant: variant });
    const save = async () => parseIptablesSave((await exec(host, [`${iptablesCommand(4, variant)}-save`, '-t', 'filter'])).stdout).filter!;

    expect(await ipt.chainExists('filter', 'CNI-TEST')).toBe(false);
    expect(await ipt.ensureChain('filter', 'CNI-TEST')).toBe(true);
    expect(await ipt.ensureChain('filter', 'CNI-TEST')).toBe(false);
    expect(await ipt.chainExists('filter', 'CNI-TEST')).toBe(true);

    const accept = ['-s', '10.0.0.1/32', '-m', 'comment', '--comment', 'a "quoted" comment', '-j', 'ACCEPT'];
    const drop = ['-s', '10.0.0.2/32', '-j', 'DROP'];
    expect(await ipt.appendUnique('filter', 'CNI-TEST', accept)).toBe(true);
    expect(await ipt.appendUnique('filter', 'CNI-TEST', accept)).toBe(false);
    expect(await ipt.insertUnique('filter', 'CNI-TEST', 1, drop)).toBe(true);
    expect(await ipt.insertUnique('filter', 'CNI-TEST', 1, drop)).toBe(false);
    expect((await save()).rules).toEqual([
      '-A CNI-TEST -s 10.0.0.2/32 -j DROP',
      '-A CNI-TEST -s 10.0.0.1/32 -m comment --comment "a \\"quoted\\" comment" -j ACCEPT',
    ]);

    // The listing gives rule specifications that -C and -D take back as they are.
    const { rules } = await ipt.list('filter', 'CNI-TEST');
    expect(rules.map((r) => r.spec)).toEqual([drop, accept]);
    expect(await ipt.exists('filter', 'CNI-TEST', rules[1]!.spec)).toBe(true);
    expect(await ipt.delete('filter', 'CNI-TEST', rules[1]!.spec)).toBe(true);
    expect(await ipt.delete('filter', 'CNI-TEST', rules[1]!.spec)).toBe(false);

    await ipt.clearChain('filter', 'CNI-TEST');
    expect((await save()).rules).toEqual([]);
    await ipt.clearChain('filter', 'CNI-OTHER');
    expect(await ipt.chainExists('filter', 'CNI-OTHER')).toBe(true);

    expect(await ipt.deleteChain('filter', 'CNI-TEST')).toBe(true);
    expect(await ipt.deleteChain('filter', 'CNI-TEST')).toBe(false);
    expect(await ipt.deleteChain('filter', 'CNI-OTHER')).toBe(true);
    expect(await ipt.list('filter', 'CNI-TEST')).toEqual({ chains: [], rules: [] });
    await expect(ipt.run(['-t', 'filter', '-A', 'NOPE', '-j', 'ACCEPT'])).rejects.toSatisfy(NetfilterCommandError.isInstance);
  });
});

describe.skipIf(!isRoot)('Nftables helper', () => {
  it('applies a batch as one transaction: a failing command leaves nothing', async () => {
    const { host } = await useTestNetns({ container: false });
    const nft = new Nftables({ runner: createCommandRunner({ prefix: ['ip', 'netns', 'exec', host.name] }) });
    await expect(
      nft.apply([
        { add: { table: { family: 'inet', name: 'cni_test' } } },
        { add: { chain: { family: 'inet', table: 'cni_test', name: 'c' } } },
        { delete: { rule: { family: 'inet', table: 'cni_test', chain: 'c', handle: 999 } } },
      ]),
    ).rejects.toSatisfy((error: unknown) => NetfilterCommandError.isInstance(error) && error.isNotFound);
    expect((await nft.list(['ruleset'])).tables).toEqual([]);

    await nft.check([{ add: { table: { family: 'inet', name: 'cni_test' } } }]);
    expect((await nft.list(['ruleset'])).tables).toEqual([]);

    // Names reach nft as JSON strings, never as nft syntax.
    const odd = 'x; flush ruleset';
    await nft.apply([
      { add: { table: { family: 'inet', name: 'cni_test' } } },
      { add: { chain: { family: 'inet', table: 'cni_test', name: 'c' } } },
      { add: { rule: { family: 'inet', table: 'cni_test', chain: 'c', comment: odd, expr: [{ accept: null }] } } },
    ]);
    const listing = await nft.list(['table', 'inet', 'cni_test']);
    expect(listing.rules.map((r) => r.comment)).toEqual([odd]);
    await nft.apply([{ delete: { table: { family: 'inet', name: 'cni_test' } } }]);
    expect(await nft.list(['table', 'inet', 'cni_test'])).toEqual({ tables: [], chains: [], rules: [] });
  });

  it('takes a batch too long for one argument through a file', async () => {
    const { host } = await useTestNetns({ container: false });
    const nft = new Nftables({ runner: createCommandRunner({ prefix: ['ip', 'netns', 'exec', host.name] }) });
    const rules = Array.from({ length: 1500 }, (_, i) => ({
      add: { rule: { family: 'inet' as const, table: 'cni_test', chain: 'c', comment: `rule number ${i} of a long batch`, expr: [{ accept: null }] } },
    }));
    await nft.apply([{ add: { table: { family: 'inet', name: 'cni_test' } } }, { add: { chain: { family: 'inet', table: 'cni_test', name: 'c' } } }, ...rules]);
    expect((await nft.list(['table', 'inet', 'cni_test'])).rules).toHaveLength(1500);
  });
});

describe.skipIf(!isRoot).each(variants)('Iptables on missing chains (iptables-%s)', (variant) => {
  it('treats deleting from a missing chain as nothing to do', async () => {
    const { host } = await useTestNetns({ container: false });
    const ipt = new Iptables(6, { runner: createCommandRunner({ prefix: ['ip', 'netns', 'exec', host.name] }), iptablesVariant: variant });
    expect(await ipt.delete('nat', 'CNI-MISSING', ['-j', 'ACCEPT'])).toBe(false);
    expect(await ipt.deleteChain('nat', 'CNI-MISSING')).toBe(false);
    expect(await ipt.list('nat', 'CNI-MISSING')).toEqual({ chains: [], rules: [] });
  });
});

describe.skipIf(!isRoot).each(variants)('Iptables restore batches (iptables-%s)', (variant) => {
  it('applies a batch in one run, all or nothing, and lists back the words it was given', async () => {
    const { host } = await useTestNetns({ container: false });
    const ipt = new Iptables(4, { runner: createCommandRunner({ prefix: ['ip', 'netns', 'exec', host.name] }), iptablesVariant: variant });
    const comment = ['-m', 'comment', '--comment', 'dnat name: "net" id: "a b"', '-j', 'RETURN'];
    await ipt.restore('nat', [['-N', 'CNI-BATCH'], ['-A', 'CNI-BATCH', ...comment], ['-I', 'PREROUTING', '1', '-j', 'CNI-BATCH']]);
    const listed = await ipt.list('nat');
    expect(listed.chains).toContain('CNI-BATCH');
    expect(listed.rules).toEqual([
      { chain: 'PREROUTING', spec: ['-j', 'CNI-BATCH'] },
      { chain: 'CNI-BATCH', spec: comment },
    ]);

    // -N of an existing chain fails the batch: nothing of it is applied, not even the lines before.
    const failed = ipt.restore('nat', [['-N', 'CNI-OTHER'], ['-N', 'CNI-BATCH']]);
    await expect(failed).rejects.toThrow(NetfilterCommandError);
    expect(await ipt.chainExists('nat', 'CNI-OTHER')).toBe(false);

    await ipt.restore('nat', [['-D', 'PREROUTING', '-j', 'CNI-BATCH'], ['-F', 'CNI-BATCH'], ['-X', 'CNI-BATCH']]);
    expect((await ipt.list('nat')).rules).toEqual([]);
    expect(await ipt.chainExists('nat', 'CNI-BATCH')).toBe(false);
  });
});

describe.skipIf(!variants.includes('legacy'))('iptablesRestoreCommand', () => {
  it('follows a PATH whose iptables is the legacy one to the legacy restore', () => {
    const shim = mkdtempSync(join(tmpdir(), 'cnitest-ipt-shim-'));
    onTestFinished(() => rmSync(shim, { recursive: true, force: true }));
    symlinkSync('/usr/sbin/iptables-legacy', join(shim, 'iptables'));
    expect(iptablesRestoreCommand('iptables', `${shim}:/usr/sbin`)).toEqual(['/usr/sbin/xtables-legacy-multi', 'iptables-restore']);
    expect(iptablesRestoreCommand('ip6tables', `${shim}:/nonexistent`)).toEqual(['ip6tables-restore']);
  });
});
