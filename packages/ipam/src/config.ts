// SPDX-License-Identifier: Apache-2.0
// The parts of an IPAM configuration that several IPAM plugins share (routes, dns, requested
// addresses), read with @cni/spec's typed readers: a value of the wrong type is a problem naming
// its path (`ipam.routes[1].gw`), never silently ignored, so that a plugin can check its whole
// configuration before it reserves, creates or writes anything.
import type { Dns, Route, ValueReader } from '@cni/spec';

/** Go's `int`, which upstream's route fields are: anything a JSON number without a fraction can be, within int32 for the kernel's attributes. */
const U32 = { min: 0, max: 0xffffffff } as const;

/**
 * One route of an IPAM configuration, as upstream's `types.Route` decodes it: `dst` a CIDR
 * (required), `gw` an IP address, `mtu`, `advmss`, `priority` and `table` non-negative integers,
 * `scope` an integer 0-255. Other keys are left out (Go's struct has no place for them).
 * Undefined when the element is not such a route (the problem is recorded on `element`).
 */
export function readRoute(element: ValueReader): Route | undefined {
  if (element.absent) return element.fail('an object with a "dst" CIDR');
  const route = element.optObject();
  if (route === undefined) return undefined;
  const dst = route.cidr('dst');
  const out: Route = { dst };
  const gw = route.optIp('gw');
  if (gw !== undefined) out.gw = gw;
  for (const key of ['mtu', 'advmss', 'priority', 'table'] as const) {
    const value = route.optInt(key, U32);
    if (value !== undefined) out[key] = value;
  }
  const scope = route.optInt('scope', { min: 0, max: 255 });
  if (scope !== undefined) out.scope = scope;
  return out;
}

/**
 * An IPAM configuration's `routes`: an array of {@link readRoute} routes; `[]` when absent.
 *
 * @example
 * ```ts
 * const conf = decodeConfig(raw, (r) => ({ routes: readRoutes(r.object('ipam').key('routes')) }));
 * ```
 */
export function readRoutes(value: ValueReader): Route[] {
  return value.optArray((element) => readRoute(element)) ?? [];
}

/**
 * An IPAM configuration's `dns`, as upstream's `types.DNS`: `nameservers`, `search` and
 * `options` arrays of strings, `domain` a string. Empty when absent.
 */
export function readDns(value: ValueReader): Dns {
  const dns = value.optObject();
  if (dns === undefined) return {};
  const out: Dns = {};
  const nameservers = dns.optStringArray('nameservers');
  if (nameservers !== undefined) out.nameservers = nameservers;
  const domain = dns.optString('domain');
  if (domain !== undefined) out.domain = domain;
  const search = dns.optStringArray('search');
  if (search !== undefined) out.search = search;
  const options = dns.optStringArray('options');
  if (options !== undefined) out.options = options;
  return out;
}

/**
 * The addresses a runtime asks for in `args.cni.ips` and `runtimeConfig.ips` (and the interface
 * of the `ips` capability): an array of strings, read as text for the plugin to parse with its
 * own upstream wording; `[]` when absent.
 */
export function readRequestedIps(value: ValueReader | undefined): string[] {
  return value?.optStringArray() ?? [];
}
