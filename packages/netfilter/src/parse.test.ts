// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { IptablesBatch, iptablesRuleKey } from './batch.ts';
import { chooseBackend, supportsIptables, supportsNftables } from './detect.ts';
import { NetfilterCommandError, NetfilterError, NetfilterUnavailableError, NetfilterValidationError } from './errors.ts';
import { formatIptablesWords, iptablesRestoreCommand, parseIptablesListing, ruleOption, splitIptablesWords } from './iptables.ts';
import { parseNftListing } from './nftables.ts';
import type { CommandRunner } from './runner.ts';
import { parseCidr, validateContainerId, validateInterfaceName, validateMac, validateNetworkName } from './validate.ts';

describe('parseCidr', () => {
  it('splits host and network in canonical form', () => {
    expect(parseCidr('10.88.0.2/16')).toEqual({ family: 4, address: '10.88.0.2', prefixLength: 16, network: '10.88.0.0' });
    expect(parseCidr('fd00:0088:0000::0002/64')).toEqual({ family: 6, address: 'fd00:88::2', prefixLength: 64, network: 'fd00:88::' });
    expect(parseCidr('192.168.1.7')).toMatchObject({ prefixLength: 32, network: '192.168.1.7' });
    expect(parseCidr('2001:db8:1::7/0')).toMatchObject({ network: '::' });
    expect(parseCidr('::ffff:10.1.2.3/120')).toMatchObject({ address: '::ffff:10.1.2.3', network: '::ffff:10.1.2.0' });
    expect(parseCidr('10.1.2.3/0').network).toBe('0.0.0.0');
  });

  it.each(['', '10.0.0.1/33', '10.0.0.1/', '10.0.0.1/a', 'fe80::1%eth0/64', '10.0.0.1 -j ACCEPT', '10.0.0.1/24"; flush ruleset', '::/129'])(
    'refuses %j',
    (value) => {
      expect(() => parseCidr(value)).toThrow(NetfilterValidationError);
    },
  );
});

describe('name validation', () => {
  it('accepts what the kernel and libcni accept', () => {
    expect(validateInterfaceName('veth1a2b3c4d')).toBe('veth1a2b3c4d');
    expect(validateInterfaceName('eth0.100')).toBe('eth0.100');
    expect(validateContainerId('ctr_1.a-b')).toBe('ctr_1.a-b');
    expect(validateNetworkName('my net "x"')).toBe('my net "x"');
    expect(validateMac('AA-BB-CC-DD-EE-0F')).toBe('aa:bb:cc:dd:ee:0f');
  });

  it.each(['', 'a'.repeat(16), '.', '..', 'a/b', 'a:b', 'a b', 'a"b', '@set', '$var', 'eth*', 'a\nb'])('refuses interface name %j', (value) => {
    expect(() => validateInterfaceName(value)).toThrow(NetfilterValidationError);
  });

  it('refuses bad container IDs, network names and MACs', () => {
    expect(() => validateContainerId('-x')).toThrow(NetfilterValidationError);
    expect(() => validateContainerId('a b')).toThrow(/invalid container ID "a b"/);
    expect(() => validateNetworkName('a\nb')).toThrow(NetfilterValidationError);
    expect(() => validateMac('aa:bb:cc:dd:ee')).toThrow(NetfilterValidationError);
  });
});

describe('iptables listings', () => {
  it('splits words as xtables quotes them', () => {
    expect(splitIptablesWords('-A POSTROUTING -s 10.88.0.2/32 -m comment --comment "name: \\"mynet\\" id: \\"c\\"" -j CNI-x')).toEqual([
      '-A',
      'POSTROUTING',
      '-s',
      '10.88.0.2/32',
      '-m',
      'comment',
      '--comment',
      'name: "mynet" id: "c"',
      '-j',
      'CNI-x',
    ]);
    expect(splitIptablesWords('-A X -m comment --comment "a\\\\b" -j ACCEPT')).toContain('a\\b');
    expect(splitIptablesWords('-A X -m comment --comment "" -j ACCEPT')).toContain('');
  });

  it('quotes restore words so that the xtables parser gives them back', () => {
    const words = ['-m', 'comment', '--comment', 'dnat name: "pm" id: "c\\1"', '-j', 'X', '', "it's", '#x'];
    const line = formatIptablesWords(words);
    expect(line).toBe('-m comment --comment "dnat name: \\"pm\\" id: \\"c\\\\1\\"" -j X "" "it\'s" "#x"');
    expect(splitIptablesWords(line)).toEqual(words);
  });

  it('finds the restore of the iptables on PATH, a variant by its name', () => {
    expect(iptablesRestoreCommand('ip6tables-legacy', '')).toEqual(['ip6tables-legacy-restore']);
    expect(iptablesRestoreCommand('iptables-nft', '')).toEqual(['iptables-nft-restore']);
    expect(iptablesRestoreCommand('iptables', '/nonexistent')).toEqual(['iptables-restore']);
  });

  it('reads chains and rules', () => {
    const listing = parseIptablesListing('-P POSTROUTING ACCEPT\n-N CNI-a\n-A POSTROUTING -s 1.2.3.4/32 -j CNI-a\n-A CNI-a ! -d 224.0.0.0/4 -j MASQUERADE\n');
    expect(listing.chains).toEqual(['POSTROUTING', 'CNI-a']);
    expect(listing.rules).toEqual([
      { chain: 'POSTROUTING', spec: ['-s', '1.2.3.4/32', '-j', 'CNI-a'] },
      { chain: 'CNI-a', spec: ['!', '-d', '224.0.0.0/4', '-j', 'MASQUERADE'] },
    ]);
    expect(ruleOption(listing.rules[0]!.spec, '-j')).toBe('CNI-a');
    expect(ruleOption(listing.rules[0]!.spec, '--comment')).toBeUndefined();
  });
});

describe('iptables batches', () => {
  it('compare rules as iptables -S prints them: any word order, addresses with their prefix', () => {
    expect(iptablesRuleKey(['-p', 'tcp', '-s', '10.0.0.1', '-j', 'ACCEPT'])).toBe(iptablesRuleKey(['-s', '10.0.0.1/32', '-p', 'tcp', '-j', 'ACCEPT']));
    expect(iptablesRuleKey(['-d', 'FD00:0::1'])).toBe(iptablesRuleKey(['-d', 'fd00::1/128']));
    expect(iptablesRuleKey(['-d', '10.0.0.0/24'])).not.toBe(iptablesRuleKey(['-d', '10.0.0.0/16']));
  });

  it('write only what the snapshot lacks, -N for new chains, and the listed form for -D', () => {
    const snapshot = {
      table: 'filter',
      text: '',
      chains: new Set(['INPUT', 'FORWARD', 'OUTPUT', 'CNI-A']),
      rules: [
        { chain: 'FORWARD', spec: ['-m', 'comment', '--comment', 'x y', '-j', 'CNI-A'] },
        { chain: 'CNI-A', spec: ['-s', '10.0.0.2/32', '-j', 'ACCEPT'] },
      ],
    };
    const batch = new IptablesBatch(snapshot);
    batch.ensureChain('CNI-A');
    batch.ensureChain('CNI-B');
    expect(batch.insertUnique('FORWARD', ['-j', 'CNI-A', '-m', 'comment', '--comment', 'x y'])).toBe(false);
    expect(batch.appendUnique('CNI-A', ['-s', '10.0.0.2', '-j', 'ACCEPT'])).toBe(false);
    expect(batch.appendUnique('CNI-A', ['-s', '10.0.0.3', '-j', 'ACCEPT'])).toBe(true);
    expect(batch.appendUnique('CNI-A', ['-s', '10.0.0.3', '-j', 'ACCEPT'])).toBe(false);
    expect(batch.delete('CNI-A', ['-s', '10.0.0.2', '-j', 'ACCEPT'])).toBe(true);
    expect(batch.delete('CNI-A', ['-s', '10.0.0.2', '-j', 'ACCEPT'])).toBe(false);
    batch.removeChain('CNI-B', 'FORWARD');
    batch.removeChain('CNI-C', 'FORWARD');
    expect(batch.lines).toEqual([
      ['-N', 'CNI-B'],
      ['-A', 'CNI-A', '-s', '10.0.0.3', '-j', 'ACCEPT'],
      ['-D', 'CNI-A', '-s', '10.0.0.2/32', '-j', 'ACCEPT'],
      ['-F', 'CNI-B'],
      ['-X', 'CNI-B'],
    ]);
    expect(batch.created).toEqual(['CNI-B']);
  });
});

describe('nft listings', () => {
  it('reads tables, chains and rules', () => {
    const listing = parseNftListing(
      JSON.stringify({
        nftables: [
          { metainfo: { json_schema_version: 1 } },
          { table: { family: 'bridge', name: 'nat', handle: 1 } },
          { chain: { family: 'bridge', table: 'nat', name: 'PREROUTING', handle: 1 } },
          { rule: { family: 'bridge', table: 'nat', chain: 'PREROUTING', handle: 4, comment: 'c', expr: [] } },
        ],
      }),
    );
    expect(listing.tables).toHaveLength(1);
    expect(listing.chains[0]!.name).toBe('PREROUTING');
    expect(listing.rules[0]!.handle).toBe(4);
  });

  it('fails clearly on output that is not nft JSON', () => {
    expect(() => parseNftListing('table ip x {}')).toThrow(/could not parse nft output/);
    expect(() => parseNftListing('{}')).toThrow(/could not find result/);
  });
});

describe('errors', () => {
  it('carry markers across realms and name the command', () => {
    const error = new NetfilterCommandError(['iptables', '--wait', '-t', 'nat', '-X', 'CNI-x'], 1, 'iptables: No chain/target/match by that name.\n');
    expect(NetfilterCommandError.isInstance(error)).toBe(true);
    expect(NetfilterError.isInstance(error)).toBe(true);
    expect(NetfilterValidationError.isInstance(error)).toBe(false);
    expect(error.isNotFound).toBe(true);
    expect(error.message).toBe(
      'running ["iptables","--wait","-t","nat","-X","CNI-x"]: exit status 1: iptables: No chain/target/match by that name.',
    );
    const copy = Object.assign(Object.create(null) as object, { [Symbol.for('cni.netfilter.error')]: true });
    expect(NetfilterError.isInstance(copy)).toBe(true);
    expect(NetfilterUnavailableError.isInstance(new NetfilterUnavailableError('nftables', 'no nft'))).toBe(true);
    expect(new NetfilterCommandError(['nft'], 1, 'Error: Could not process rule: Device or resource busy').isNotFound).toBe(false);
  });
});

function fakeRunner(answers: Record<string, { exitCode: number; stdout?: string }>): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  const runner = async (file: string, args: readonly string[]) => {
    const line = [file, ...args].join(' ');
    calls.push(line);
    const answer = Object.entries(answers).find(([prefix]) => line.startsWith(prefix))?.[1] ?? { exitCode: 1 };
    return { command: [file, ...args], exitCode: answer.exitCode, stdout: answer.stdout ?? '', stderr: '' };
  };
  return Object.assign(runner, { calls });
}

describe('backend choice', () => {
  it('prefers iptables when it works', async () => {
    const runner = fakeRunner({ 'iptables --wait -t filter -S INPUT 1': { exitCode: 0 }, 'nft ': { exitCode: 0 } });
    expect(await chooseBackend(undefined, { runner })).toBe('iptables');
    expect(runner.calls.some((call) => call.startsWith('nft'))).toBe(false);
  });

  it('takes nftables when only nftables works', async () => {
    const runner = fakeRunner({ 'nft --version': { exitCode: 0, stdout: 'nftables v1.0.6 (Lester Gooch #5)\n' }, 'nft --check': { exitCode: 0 } });
    expect(await chooseBackend(undefined, { runner })).toBe('nftables');
    // Answers are remembered per runner.
    await supportsIptables({ runner });
    expect(runner.calls.filter((call) => call.startsWith('iptables'))).toHaveLength(1);
  });

  it('falls back to iptables when neither works, and refuses nft older than 1.0.1', async () => {
    const runner = fakeRunner({ 'nft --version': { exitCode: 0, stdout: 'nftables v1.0.0 (Fearless Fosdick #3)\n' }, 'nft --check': { exitCode: 0 } });
    expect(await supportsNftables({ runner })).toBe(false);
    expect(await chooseBackend(undefined, { runner })).toBe('iptables');
  });

  it('honours a forced backend and refuses an unknown one', async () => {
    const runner = fakeRunner({});
    expect(await chooseBackend('nftables', { runner })).toBe('nftables');
    expect(runner.calls).toEqual([]);
    await expect(chooseBackend('ebtables', { runner })).rejects.toThrow(/invalid backend "ebtables"/);
  });
});
