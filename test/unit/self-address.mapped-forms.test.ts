// Threat: a seller writes this instance's own address in another spelling (IPv4-mapped IPv6) to slip a loop past the check.
import { expect, test } from 'bun:test';
import { parseIp } from '../../src/shared/upstream/ip.ts';
import { instanceAddressOf, isOwnPublicHost, reachesListener } from '../../src/shared/upstream/self-address.ts';

const ip = (text: string) => parseIp(text)!;

test('a server bound to 0.0.0.0 is reached through the mapped forms of 127/8 and 0.0.0.0', () => {
  const self = instanceAddressOf({ public_url: 'http://localhost:8787', host: '0.0.0.0', port: 8787 }, () => []);
  for (const address of ['::ffff:127.0.0.2', '::ffff:0.0.0.0', '::ffff:7f00:1', '127.0.0.2', '0.0.0.0']) {
    expect({ address, self: reachesListener(self, ip(address), 8787, true) }).toEqual({ address, self: true });
  }
  expect(reachesListener(self, ip('::ffff:127.0.0.2'), 8788, true)).toBe(false);
  expect(reachesListener(self, ip('::ffff:93.184.216.34'), 8787, true)).toBe(false);
});

test('a public URL on an IP literal is recognised in its mapped spellings', () => {
  const self = instanceAddressOf({ public_url: 'https://93.184.216.34', host: '0.0.0.0', port: 8787 }, () => []);
  for (const host of ['93.184.216.34', '::ffff:93.184.216.34', '::ffff:5db8:d822']) {
    expect({ host, own: isOwnPublicHost(self, host, 8443, false) }).toEqual({ host, own: true });
  }
  expect(isOwnPublicHost(self, '93.184.216.35', 443, false)).toBe(false);
  expect(isOwnPublicHost(self, '::ffff:93.184.216.34', 8443, true)).toBe(false);
});
