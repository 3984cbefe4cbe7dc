import type { Resolver } from '../../src/shared/upstream/guard.ts';

/**
 * Hostile endpoint URLs for API-level SSRF suites: the same families as
 * test/unit/upstream-guard.ssrf.test.ts (schemes, local names, loopback and private literals in
 * canonical and trick spellings, IPv6 forms, credentials, malformed URLs), plus public-looking
 * names whose DNS answers are unsafe (`HOSTILE_DNS`, resolved by `ssrfTestResolver`).
 */
export const HOSTILE_URLS: string[] = [
  'http://example.com/', 'HTTP://example.com/', 'https://localhost/', 'https://LOCALHOST./',
  'https://a.localhost/', 'https://printer.local/', 'https://db.internal/',
  'https://metadata.google.internal/computeMetadata/v1/', 'https://127.0.0.1/',
  'https://127.0.0.1:8443/admin', 'https://127.1/', 'https://0x7f.1/', 'https://0x7f000001/',
  'https://2130706433/', 'https://017700000001/', 'https://0177.0.0.1/', 'https://127.0.0.1./',
  'https://%31%32%37.0.0.1/', 'https://１２７.０.０.１/', 'https://[::1]/',
  'https://[0:0:0:0:0:0:0:1]/', 'https://[::ffff:127.0.0.1]/', 'https://[::ffff:7f00:1]/',
  'https://[64:ff9b::10.0.0.1]/', 'https://[2002:a9fe:a9fe::1]/', 'https://[fe80::1]/',
  'https://[fc00::1]/', 'https://[fd12:3456::1]/', 'https://[::]/', 'https://[ff02::1]/',
  'https://169.254.169.254/latest/meta-data', 'https://100.64.0.1/', 'https://10.0.0.1/',
  'https://172.16.0.1/', 'https://172.31.255.255/', 'https://192.168.0.1/', 'https://0.0.0.0/',
  'https://0/', 'https://224.0.0.1/', 'https://255.255.255.255/', 'https://198.18.0.1/',
  'https://good.example@127.0.0.1/', 'https://user:pass@api.example.com/',
  'https://api.example.com@169.254.169.254/', 'https://@api.example.com/',
  'ftp://api.example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'https:api.example.com/x',
  '//api.example.com/x', 'not a url', 'https:///x', ' https://api.example.com/',
  'https://api.exa\tmple.com/',
];

/** Public-looking names (`<n>.hostile-dns.test`) whose answers include an unsafe address. */
export const HOSTILE_DNS: Record<string, string[]> = {
  'private.hostile-dns.test': ['10.0.0.5'],
  'mixed.hostile-dns.test': ['93.184.216.34', '127.0.0.1'],
  'mapped.hostile-dns.test': ['::ffff:192.168.1.1'],
  'ula.hostile-dns.test': ['2606:2800:220:1::1', 'fd00::1'],
  'metadata.hostile-dns.test': ['169.254.169.254'],
  'scoped.hostile-dns.test': ['fe80::1%eth0'],
  'garbage.hostile-dns.test': ['not-an-ip'],
};

export const PUBLIC_IP = '93.184.216.34';

/** Ordinary public endpoints: each resolves (through `ssrfTestResolver`) to a public address. */
export const PUBLIC_URLS: string[] = [
  'https://api.example.com/v1/run',
  'https://seller.example.org:8443/hooks/crochet?x=1',
  'https://8.8.8.8/run',
  'https://[2606:4700:4700::1111]/run',
  'https://bücher.example/api',
  'HTTPS://API.Example.COM/v2',
];

/** Fake DNS: the hostile table, public names → a public address; any other name does not resolve. */
export const ssrfTestResolver: Resolver = async (hostname) => {
  const hostile = HOSTILE_DNS[hostname];
  if (hostile) return hostile;
  if (['api.example.com', 'seller.example.org', 'xn--bcher-kva.example'].includes(hostname)) return [PUBLIC_IP];
  return [];
};
