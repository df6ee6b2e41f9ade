// SPDX-License-Identifier: Apache-2.0
// The fuzz tier: for every plugin, a few hundred malformed requests derived from its valid
// configuration (seeded; CNI_FUZZ_SEED changes the seed, CNI_FUZZ_LIMIT the cases per plugin) run
// in this process. Each must be answered with a CNI error JSON or a valid result, an accepted
// ADD must be undone by its DEL, and nothing may be left behind in the namespaces or folders.
// Where Debian's reference has the plugin, a request it refuses must be refused by ours too,
// unless known.ts explains the difference.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fuzzCases, registerTeardown, run, runFuzzTarget, type FuzzOutcome, type FuzzTarget } from '@cni/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PLUGINS,
  REFERENCE_DIR,
  caseEnv,
  delConf,
  inOwnNetns,
  privateDefaultFolders,
  releaseDefaultFolders,
  referenceAnswer,
  resultProblem,
  runInProcessWithEnv,
  useFuzzPlace,
} from './harness.ts';
import { DELIBERATE, KNOWN_FAILURES, explain } from './known.ts';
import { TARGETS, hostNames } from './targets.ts';

const SEED = Number(process.env['CNI_FUZZ_SEED'] ?? 22);
const LIMIT = Number(process.env['CNI_FUZZ_LIMIT'] ?? 160);
/** Accepted requests sent to the reference too, per plugin: each costs two process starts. */
const COMPARE = Number(process.env['CNI_FUZZ_COMPARE'] ?? 25);

describe.sequential('fuzz: malformed requests get a CNI error or a result, and leave nothing behind', () => {
  beforeAll(async () => {
    if (!inOwnNetns()) {
      throw new Error('the fuzz tier acts on its own namespace as the host: run it with `node scripts/run-tier.mjs fuzz`, which starts vitest inside one');
    }
    await privateDefaultFolders();
  });
  afterAll(releaseDefaultFolders);

  it.each(TARGETS)('$type', async (target) => {
    const plugin = PLUGINS[target.type]!;
    const place = await useFuzzPlace(target.type);
    const names = hostNames(place.containerId.slice(-6));
    registerTeardown(async () => {
      for (const link of [names.uplink, names.device, names.hostVeth, names.bridge]) {
        await run(['ip', 'link', 'del', link], { allowFailure: true });
      }
    });
    await target.setup?.(place, names);
    const valid = target.conf(place, names);
    const cases = fuzzCases(valid, { seed: SEED, limit: LIMIT });
    const extraEnv = target.env?.(place) ?? {};

    const fuzzTarget: FuzzTarget = {
      name: target.type,
      seed: SEED,
      cases: [{ label: 'the valid configuration', conf: valid, env: {}, paths: [] }, ...cases],
      add: (fuzzCase) => runInProcessWithEnv(plugin, caseEnv(place, 'ADD', fuzzCase, place.cniPath, extraEnv), fuzzCase.conf),
      del: (fuzzCase, result) => runInProcessWithEnv(plugin, caseEnv(place, 'DEL', fuzzCase, place.cniPath, extraEnv), delConf(fuzzCase.conf, result)),
      watch: { namespaces: [null, place.container], files: [place.dir, join('/var/lib/cni/networks', place.network), '/run/cni', ...(target.folders ?? [])] },
      leakOptions: {
        ignore: [
          ...(target.stays ?? []),
          // A table's built-in chains, and iptables-nft's own nft tables, appear when iptables (ours
          // or the reference's) first touches the table in the namespace; no plugin removes them.
          /iptablesChains: ip6?tables \w+ (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING)$/,
          /nftTables: ip6? (nat|filter|mangle|raw)$/,
          // host-local's lock, last-reserved markers and index stay with the store, as upstream's.
          /^file: .*\/(lock|last_reserved_ip\.\d+|\.cni-index)$/,
          `file: ${join(place.dir, place.network)}`,
          `file: ${join(place.dir, 'tuning')}`,
          `file: ${join('/var/lib/cni/networks', place.network)}`,
          // Other tests of the machine use /run/cni meanwhile: only this run's names count there.
          new RegExp(`^file: /run/cni/(?!.*(${place.containerId}|${place.network}))`),
        ],
      },
      checkResult: (result, fuzzCase) => resultProblem(result, fuzzCase.conf),
      batch: 100,
    };
    const report = await runFuzzTarget(fuzzTarget);
    const problems = [...report.problems];
    const accepted = report.outcomes.filter((outcome) => outcome.verdict === 'accepted');
    const validOutcome = report.outcomes[0];
    if (target.alwaysRefused !== undefined) {
      if (accepted.length > 0) problems.push(`${target.type}: accepted ${accepted.length} requests, though ${target.alwaysRefused}`);
    } else if (validOutcome?.verdict !== 'accepted' || validOutcome.fuzzCase.label !== 'the valid configuration') {
      problems.push(`${target.type}: the valid configuration itself was refused: ${validOutcome?.msg ?? 'no outcome'}`);
    }

    // A value of the wrong JSON type at a known key is refused, never ignored (or known.ts says why not).
    const known: string[] = [];
    for (const outcome of accepted) {
      if (!outcome.fuzzCase.wrongType) continue;
      const rule = explain(DELIBERATE, target.type, outcome.fuzzCase, '') ?? explain(KNOWN_FAILURES, target.type, outcome.fuzzCase, '');
      if (rule) known.push(`${outcome.fuzzCase.label} (${rule.why})`);
      else problems.push(`${target.type} [seed ${SEED}] ${outcome.fuzzCase.label}: a value of the wrong type is accepted, not refused`);
    }

    // Where the reference has the plugin: what it refuses, ours refuses too (or known.ts says why not).
    let compared = 0;
    if (target.reference && existsSync(join(REFERENCE_DIR, target.type))) {
      const comparable = accepted.slice(1).filter((outcome) => Object.keys(outcome.fuzzCase.env).length === 0 && !outcome.fuzzCase.wrongType);
      // Evenly spread when there are more than COMPARE, so that every path keeps some.
      const chosen = comparable.length <= COMPARE ? comparable : Array.from({ length: COMPARE }, (_, i) => comparable[Math.floor((i * comparable.length) / COMPARE)]!);
      for (const outcome of chosen as FuzzOutcome[]) {
        compared++;
        const answer = await referenceAnswer(target.type, place, outcome.fuzzCase);
        await target.referenceCleanup?.(place, names);
        if (answer.exitCode === 0) continue;
        const msg = answer.error?.msg ?? answer.stderr.trim();
        const rule = explain(DELIBERATE, target.type, outcome.fuzzCase, msg) ?? explain(KNOWN_FAILURES, target.type, outcome.fuzzCase, msg);
        if (rule) known.push(`${outcome.fuzzCase.label} (${rule.why})`);
        else problems.push(`${target.type} [seed ${SEED}] ${outcome.fuzzCase.label}: the reference refuses (${answer.error?.code ?? answer.exitCode}: ${msg}), ours accepts`);
      }
    }
    console.log(
      `fuzz ${target.type}: ${report.outcomes.length} cases, ${accepted.length} accepted, ${report.outcomes.length - accepted.length} refused, ` +
        `${compared} compared with the reference (${known.length} known differences), ${report.ms} ms, seed ${SEED}`,
    );
    expect(problems, `seed ${SEED}`).toEqual([]);
    // A plugin's few hundred cases take seconds on a quiet machine; room for a loaded one.
  }, 300_000);
});
