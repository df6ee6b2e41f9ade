// SPDX-License-Identifier: Apache-2.0

/** Counters of one plugin and verb. */
interface Counter {
  served: number;
  failed: number;
  refused: number;
}

/** The figures `cni-bundle daemon status` and the metrics endpoint show. */
export class DaemonStats {
  readonly started = Date.now();
  readonly #counters = new Map<string, Counter>();
  /** The last latencies (ms, request read to reply written), for percentiles. */
  readonly #latencies = new Float64Array(4096);
  #latencyCount = 0;
  rejectedPeers = 0;
  badFrames = 0;

  /** Count a request: `served` it ran (whatever its exit status), `failed` the daemon lost it, `refused` it never ran. */
  count(plugin: string, verb: string, outcome: keyof Counter, ms?: number): void {
    const key = `${plugin}\0${verb}`;
    let counter = this.#counters.get(key);
    if (counter === undefined) {
      counter = { served: 0, failed: 0, refused: 0 };
      this.#counters.set(key, counter);
    }
    counter[outcome]++;
    if (ms !== undefined) this.#latencies[this.#latencyCount++ % this.#latencies.length] = ms;
  }

  /** Requests by plugin and verb. */
  requests(): { plugin: string; verb: string; served: number; failed: number; refused: number }[] {
    return [...this.#counters].map(([key, counter]) => {
      const [plugin, verb] = key.split('\0') as [string, string];
      return { plugin, verb, ...counter };
    });
  }

  /** Latency percentiles (ms) of the last requests served. */
  percentiles(): { count: number; p50?: number; p90?: number; p99?: number; max?: number } {
    const count = Math.min(this.#latencyCount, this.#latencies.length);
    if (count === 0) return { count: 0 };
    const sorted = Float64Array.from(this.#latencies.subarray(0, count)).sort();
    const at = (q: number) => Math.round(sorted[Math.min(count - 1, Math.floor(q * count))]! * 100) / 100;
    return { count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
  }
}
