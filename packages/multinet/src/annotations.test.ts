// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from 'vitest';
import { MultinetError } from './errors.ts';
import { parseDefaultNetworkAnnotation, parseNetworkSelection } from './annotations.ts';

const parse = (value: string) => parseNetworkSelection(value, 'default');

/** The error a value fails with, for asserting its text. */
function failure(value: string): MultinetError {
  try {
    parse(value);
  } catch (error) {
    expect(MultinetError.isInstance(error)).toBe(true);
    return error as MultinetError;
  }
  throw new Error(`expected ${value} to fail`);
}

describe('the users\' examples', () => {
  it('reads the JSON list of the ipvlan example', () => {
    expect(parse('[ { "name": "ipvlan0" } ]')).toEqual([{ name: 'ipvlan0', namespace: 'default' }]);
  });

  it('reads the comma form with a network in another namespace', () => {
    expect(parseNetworkSelection('left-network,blue-network,right-network,extns/data-network', 'web')).toEqual([
      { name: 'left-network', namespace: 'web' },
      { name: 'blue-network', namespace: 'web' },
      { name: 'right-network', namespace: 'web' },
      { name: 'data-network', namespace: 'extns' },
    ]);
  });
});

describe('comma form (§4.1.1)', () => {
  it('trims items and reads namespace/name@ifname', () => {
    expect(parse(' a , other-ns/c@net5 ')).toEqual([
      { name: 'a', namespace: 'default' },
      { name: 'c', namespace: 'other-ns', interface: 'net5' },
    ]);
  });

  it('selects nothing from an empty value', () => {
    expect(parse('')).toEqual([]);
    expect(parse('   ')).toEqual([]);
  });

  it.each([
    ['a,,b', '""', 'empty item'],
    ['a/b/c', '"a/b/c"', 'at most one "/"'],
    ['/b', '"/b"', 'namespace before "/" is empty'],
    ['b@', '"b@"', 'interface after "@" is empty'],
    ['b@x@y', '"b@x@y"', 'at most one "@"'],
    ['Upper', '"Upper"', 'not a lowercase DNS-1123 label'],
    ['-a', '"-a"', 'DNS-1123'],
    ['ns_x/a', '"ns_x/a"', 'namespace "ns_x"'],
    ['a@averyveryverylongname', '"a@averyveryverylongname"', 'longer than 15 bytes'],
    ['a@..', '"a@.."', 'is not allowed'],
    [`${'a'.repeat(64)}`, `"${'a'.repeat(64)}"`, 'longer than 63 characters'],
  ])('refuses %j quoting the element', (value, quoted, why) => {
    const error = failure(value);
    expect(error.message).toContain(`element ${quoted}`);
    expect(error.message).toContain(why);
    expect(error.code).toBe(7);
  });
});

describe('JSON list form (§4.1.2)', () => {
  it('reads every key and normalises them', () => {
    const [selection] = parse(
      JSON.stringify([
        {
          name: 'net-a',
          namespace: 'ns1',
          interface: 'data0',
          ips: ['10.1.1.5/24', '2001:db8::5'],
          mac: 'C2:11:22:33:44:55',
          'cni-args': { foo: 'bar' },
          portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'UDP' }, { hostPort: 443, containerPort: 443, hostIP: '192.0.2.1' }],
          bandwidth: { ingressRate: 1000, ingressBurst: 2000, egressRate: 3000 },
          'default-route': ['10.1.1.1'],
          'infiniband-guid': 'C2-11-22-33-44-55-66-77',
          'ipam-claim-reference': 'vm-a.net-a.data0',
          'org.example.key': { any: 1 },
          unknownkey: 1,
        },
      ]),
    );
    expect(selection).toEqual({
      name: 'net-a',
      namespace: 'ns1',
      interface: 'data0',
      ips: ['10.1.1.5/24', '2001:db8::5'],
      mac: 'c2:11:22:33:44:55',
      cniArgs: { foo: 'bar' },
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'udp' },
        { hostPort: 443, containerPort: 443, protocol: 'tcp', hostIP: '192.0.2.1' },
      ],
      bandwidth: { ingressRate: 1000, ingressBurst: 2000, egressRate: 3000 },
      defaultRoute: ['10.1.1.1'],
      infinibandGuid: 'c2:11:22:33:44:55:66:77',
      ipamClaimReference: 'vm-a.net-a.data0',
      extensions: { 'org.example.key': { any: 1 } },
    });
  });

  it('uses the pod namespace when namespace is missing or empty', () => {
    expect(parse('[{"name":"a","namespace":""}]')).toEqual([{ name: 'a', namespace: 'default' }]);
  });

  it('accepts the deprecated interfaceRequest as interface', () => {
    expect(parse('[{"name":"a","interfaceRequest":"eth7"}]')).toEqual([{ name: 'a', namespace: 'default', interface: 'eth7' }]);
    expect(failure('[{"name":"a","interface":"x","interfaceRequest":"y"}]').message).toContain('disagree');
  });

  it('accepts an empty default-route list', () => {
    expect(parse('[{"name":"a","default-route":[]}]')).toEqual([{ name: 'a', namespace: 'default', defaultRoute: [] }]);
  });

  it.each([
    ['{"name":"a"}', 'must be a JSON list'],
    ['[{"name":"a"', 'invalid k8s.v1.cni.cncf.io/networks annotation'],
    ['["a"]', 'must be an object'],
    ['[{"namespace":"x"}]', 'name is required'],
    ['[{"name":"a","namespace":5}]', 'namespace must be a string'],
    ['[{"name":"a","interface":"a b"}]', 'whitespace'],
    ['[{"name":"a","ips":[]}]', 'ips must be a non-empty list'],
    ['[{"name":"a","ips":"10.0.0.1"}]', 'ips must be a non-empty list'],
    ['[{"name":"a","ips":["10.0.0.300"]}]', 'is not an IP address'],
    ['[{"name":"a","ips":["10.0.0.1/33"]}]', 'invalid prefix length'],
    ['[{"name":"a","ips":["2001:db8::1/129"]}]', 'invalid prefix length'],
    ['[{"name":"a","mac":"c2:11:22:33:44"}]', 'not a 6-byte Ethernet address'],
    ['[{"name":"a","mac":"00:00:00:00:00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10"}]', '6-byte'],
    ['[{"name":"a","mac":"c2:11-22:33:44:55"}]', '6-byte'],
    ['[{"name":"a","infiniband-guid":"c2:11:22:33:44:55"}]', '8-byte GUID'],
    ['[{"name":"a","cni-args":[1]}]', 'cni-args must be an object'],
    ['[{"name":"a","portMappings":{}}]', 'portMappings must be a list'],
    ['[{"name":"a","portMappings":[{"hostPort":0,"containerPort":80}]}]', 'hostPort must be an integer from 1 to 65535'],
    ['[{"name":"a","portMappings":[{"hostPort":80,"containerPort":65536}]}]', 'containerPort'],
    ['[{"name":"a","portMappings":[{"hostPort":80,"containerPort":80,"protocol":"icmp"}]}]', 'must be TCP, UDP or SCTP'],
    ['[{"name":"a","portMappings":[{"hostPort":80,"containerPort":80,"hostIP":"x"}]}]', 'hostIP'],
    ['[{"name":"a","bandwidth":{"ingressRate":0}}]', 'positive integer'],
    ['[{"name":"a","bandwidth":{"egressBurst":10}}]', 'egressBurst needs egressRate'],
    ['[{"name":"a","bandwidth":{}}]', 'sets no rate'],
    ['[{"name":"a","default-route":"10.0.0.1"}]', 'default-route must be a list'],
    ['[{"name":"a","default-route":["10.0.0.1/24"]}]', 'must not carry a prefix length'],
    ['[{"name":"a","ipam-claim-reference":5}]', 'ipam-claim-reference must be a string'],
  ])('refuses %s', (value, why) => {
    expect(failure(value).message).toContain(why);
  });

  it('quotes the bad element, not the whole list', () => {
    const error = failure('[{"name":"good"},{"name":"bad","mac":"zz"}]');
    expect(error.message).toBe(
      'invalid k8s.v1.cni.cncf.io/networks annotation: element {"name":"bad","mac":"zz"}: mac "zz" is not a 6-byte Ethernet address',
    );
  });

  it('allows default-route on one element only', () => {
    expect(failure('[{"name":"a","default-route":["10.0.0.1"]},{"name":"b","default-route":[]}]').message).toContain(
      'element "default/b": only one element may carry default-route',
    );
  });

  it('gives both forms the same rules', () => {
    for (const bad of ['Bad', 'ns/-x', 'a@x/y']) {
      const namespace = bad.includes('/') ? bad.split('/')[0] : undefined;
      const rest = bad.includes('/') ? bad.split('/').slice(1).join('/') : bad;
      const [name, iface] = rest.split('@');
      const json = JSON.stringify([{ name, ...(namespace ? { namespace } : {}), ...(iface ? { interface: iface } : {}) }]);
      expect(() => parse(bad)).toThrow(MultinetError);
      expect(() => parse(json)).toThrow(MultinetError);
    }
    expect(parse('ns1/a@net9')).toEqual(parse('[{"name":"a","namespace":"ns1","interface":"net9"}]'));
  });

  it('keeps a repeated network as separate attachments (§4.2)', () => {
    expect(parse('a,a')).toHaveLength(2);
  });
});

describe('default-network annotation', () => {
  it('reads one network, namespace defaulting to the plugin namespace', () => {
    expect(parseDefaultNetworkAnnotation('calico', 'kube-system')).toEqual({ name: 'calico', namespace: 'kube-system' });
    expect(parseDefaultNetworkAnnotation('net/calico', 'kube-system')).toEqual({ name: 'calico', namespace: 'net' });
    expect(parseDefaultNetworkAnnotation('[{"name":"calico"}]', 'kube-system')).toEqual({ name: 'calico', namespace: 'kube-system' });
  });

  it('refuses none or several', () => {
    expect(() => parseDefaultNetworkAnnotation('a,b', 'x')).toThrow('must name exactly one network');
    expect(() => parseDefaultNetworkAnnotation('', 'x')).toThrow('must name exactly one network');
  });
});
